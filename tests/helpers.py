"""Helpers shared by the lab test files (`from tests.helpers import seeded, expect_error`)."""

from __future__ import annotations

import pytest
import torch

TORCH_FULL_DISK = "[enforce fail at inline_container.cc:672] . unexpected pos 4160 vs 4054"


def seeded(seed: int = 0) -> torch.Generator:
    """A CPU generator with a fixed seed: the tests' data never depends on the global RNG."""
    return torch.Generator().manual_seed(seed)


def full_disk_save(obj, f, *args, **kwargs):
    """Stands in for torch.save on a full disk: torch raises this RuntimeError, which names no file."""
    raise RuntimeError(TORCH_FULL_DISK)


def expect_error(kind, call, words=(), advice=""):
    """Call `call()` and require an exception of type `kind` whose message contains each of `words`.

    Any other outcome fails with one line a learner can act on (not pytest's "DID NOT RAISE"
    or a raw library traceback). A TODO's NotImplementedError passes through untouched.
    """
    name = kind.__name__
    try:
        result = call()
    except NotImplementedError:
        raise
    except kind as error:
        missing = [word for word in words if word not in str(error)]
        assert not missing, f"the {name} should mention {missing}: {advice}. The message was {str(error)!r}"
        return error
    except Exception as error:  # noqa: BLE001 - the learner's own exception is what we report
        first = str(error).splitlines()[0] if str(error) else ""
        raise pytest.fail.Exception(f"expected {name}, got {type(error).__name__}: {first[:200]}. {advice}", pytrace=False) from None
    pytest.fail(f"expected {name}, but nothing was raised (it returned {result!r:.100}): {advice}", pytrace=False)
