"""Grade the Phase 1 quiz (quiz.md) without revealing its answers.

The key is stored as salted SHA-256 digests of the normalised answers (tools/quiz_key.json),
so reading this folder does not spoil the quiz at a glance; quiz_explanations.md holds the
answers in prose, for after you pass.

Usage:
    pytest -m quiz                              # the usual way: part of the progress table
    python tools/grade_quiz.py [ANSWERS_FILE]   # default: quiz_answers.txt
    python tools/grade_quiz.py --make-key       # instructors: rebuild the key from quiz_explanations.md
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ANSWERS = ROOT / "quiz_answers.txt"
EXPLANATIONS = ROOT / "quiz_explanations.md"
KEY = Path(__file__).resolve().parent / "quiz_key.json"
NUM_QUESTIONS = 10
PASS_MARK = 8


def normalise(answer: str) -> str:
    """Canonical form: case, spaces, brackets and `torch.Size(...)` don't matter; 12 == 12.0."""
    text = answer.strip().lower().replace(" ", "")
    text = re.sub(r"^torch\.size\((.*)\)$", r"\1", text)
    text = text.strip("()[]")
    text = text.rstrip(".")
    try:
        return repr(float(text))
    except ValueError:
        return text


def digest(number: int, answer: str) -> str:
    return hashlib.sha256(f"phase1-quiz-q{number}:{normalise(answer)}".encode()).hexdigest()


def read_answers(path: Path) -> dict[int, str]:
    """Answers from a 'N: answer' file; missing or empty lines are blank answers."""
    answers = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^\s*(\d+)\s*[:.)]\s*(.*?)\s*$", line)
        if match and not line.lstrip().startswith("#"):
            answers[int(match[1])] = match[2]
    return answers


def read_reference_answers(path: Path = EXPLANATIONS) -> dict[int, str]:
    """The '**Answer:** X' line under each '## N.' heading of quiz_explanations.md."""
    answers, number = {}, None
    for line in path.read_text().splitlines():
        heading = re.match(r"^##\s+(\d+)\.", line)
        if heading:
            number = int(heading[1])
        answer = re.match(r"^\*\*Answer:\*\*\s*`?([^`]+?)`?\s*$", line)
        if answer and number is not None:
            answers[number] = answer[1]
    return answers


@dataclass
class QuizResult:
    score: int
    blank: list[int] = field(default_factory=list)
    wrong: list[tuple[int, str]] = field(default_factory=list)  # (question, section to review)

    @property
    def passed(self) -> bool:
        return self.score >= PASS_MARK

    def report(self) -> str:
        verdict = "passed" if self.passed else f"not passed ({PASS_MARK} needed)"
        lines = [f"Quiz score {self.score}/{NUM_QUESTIONS} — {verdict}."]
        for number, review in self.wrong:
            lines.append(f"  Question {number}: not right yet. Review {review}.")
        if self.blank:
            lines.append(f"  Not answered: {', '.join(map(str, self.blank))} (write them in quiz_answers.txt).")
        if self.passed:
            lines.append("  Well done. quiz_explanations.md explains every answer and why the others tempt.")
        return "\n".join(lines)


def load_key() -> dict:
    return json.loads(KEY.read_text())


def grade(answers: dict[int, str]) -> QuizResult:
    key = load_key()
    result = QuizResult(score=0)
    for number in range(1, NUM_QUESTIONS + 1):
        entry = key[str(number)]
        answer = answers.get(number, "")
        if not answer:
            result.blank.append(number)
        elif digest(number, answer) == entry["sha256"]:
            result.score += 1
        else:
            result.wrong.append((number, entry["review"]))
    return result


def make_key(reviews: dict[str, str]) -> dict:
    reference = read_reference_answers()
    return {str(n): {"sha256": digest(n, reference[n]), "review": reviews[str(n)]} for n in sorted(reference)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("answers", nargs="?", type=Path, default=ANSWERS)
    parser.add_argument("--make-key", action="store_true", help="rebuild tools/quiz_key.json from quiz_explanations.md")
    args = parser.parse_args(argv)
    if args.make_key:
        reviews = {number: entry["review"] for number, entry in load_key().items()}
        KEY.write_text(json.dumps(make_key(reviews), indent=2) + "\n")
        print(f"wrote {KEY.relative_to(ROOT)}")
        return 0
    if not args.answers.exists():
        print(f"{args.answers} does not exist: copy the template quiz_answers.txt and fill it in.", file=sys.stderr)
        return 2
    result = grade(read_answers(args.answers))
    print(result.report())
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
