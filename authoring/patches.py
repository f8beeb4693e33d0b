"""Answer-catalogue entries as patches of a solution block: the one applier (authoring/README.md).

An entry changes one BEGIN/END SOLUTION block (`task`, `block` from 1, default 1) of its lab's
solution.py, in one of two forms:

    "patch": [(old, new), ...]   # each `old` text occurs exactly once in the block; it becomes `new`
    "body": new_body              # the whole body replaced (an answer that shares little with the reference)

Texts are dedented before use, so they can be written at any indentation in the catalogue file.
`old` is found at any indentation inside the block; `new` is placed so that its least-indented
lines line up with `old`'s least-indented lines. An `old` that is no longer in the block (the
reference changed) or is there twice is a CatalogueError: a stale patch fails loudly.
"""

from __future__ import annotations

import textwrap

from harness import markers


class CatalogueError(ValueError):
    """A catalogue entry the runner cannot use."""


def _lines(text: str) -> list[str]:
    return textwrap.dedent(text).strip("\n").splitlines()


def _matches(block: list[str], start: int, old: list[str]) -> str | None:
    """The indentation prefix P such that block[start:] begins with `old`, every line P + old line; else None."""
    if start + len(old) > len(block):
        return None
    offset, first = next(((i, line.rstrip()) for i, line in enumerate(old) if line.strip()), (0, ""))
    line = block[start + offset].rstrip()
    if not first or not line.endswith(first) or line[: len(line) - len(first)].strip():
        return None
    prefix = line[: len(line) - len(first)]
    for expected, actual in zip(old, block[start:start + len(old)], strict=True):
        if actual.rstrip() != ((prefix + expected).rstrip() if expected.strip() else ""):
            return None
    return prefix


def apply_patches(body: list[str], patches, where: str) -> list[str]:
    """The block body (its lines, as in the file) with every (old, new) applied: each old text is
    found in the original body, where it must occur once and not overlap another patch's."""
    edits = []
    for number, pair in enumerate(patches, start=1):
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
            raise CatalogueError(f"{where}: patch {number} is not an (old, new) pair")
        old, new = _lines(pair[0]), _lines(pair[1])
        if not any(line.strip() for line in old):
            raise CatalogueError(f"{where}: patch {number} has no old text")
        found = [(start, prefix) for start in range(len(body)) if (prefix := _matches(body, start, old)) is not None]
        if not found:
            raise CatalogueError(f"{where}: patch {number}'s old text is not in the block (has the reference changed?):\n"
                                 + textwrap.indent("\n".join(old), "    "))
        if len(found) > 1:
            raise CatalogueError(f"{where}: patch {number}'s old text occurs {len(found)} times in the block; "
                                 "add a line of context")
        start, prefix = found[0]
        edits.append((start, start + len(old), [prefix + line if line.strip() else "" for line in new], number))
    edits.sort()
    for (_, end, _, first), (start, _, _, second) in zip(edits, edits[1:], strict=False):
        if start < end:
            raise CatalogueError(f"{where}: patches {first} and {second} change the same lines")
    body = list(body)
    for start, end, new, _ in reversed(edits):
        body[start:end] = new
    return body


def apply(source: str, entry: dict, where: str = "entry") -> str:
    """The solution text with the entry's block changed by its patch (or replaced by its body)."""
    task, index = entry["task"], int(entry.get("block", 1))
    try:
        found = [block for block in markers.blocks(source) if block.task == task]
    except markers.MarkerError as error:
        raise CatalogueError(str(error)) from None
    if index > len(found):
        raise CatalogueError(f"{where}: no block {index} of {task} (the solution has {len(found)})")
    block = found[index - 1]
    if ("patch" in entry) == ("body" in entry):
        raise CatalogueError(f"{where}: give either a patch or a body")
    if "body" in entry:
        new_body = [block.indent + line if line.strip() else "" for line in _lines(entry["body"])]
    else:
        new_body = apply_patches(block.body, entry["patch"], where)
    lines = source.splitlines(keepends=True)
    return "".join(lines[: block.begin_line]) + "".join(line + "\n" for line in new_body) + "".join(lines[block.end_line - 1:])
