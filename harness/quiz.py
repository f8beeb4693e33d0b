"""Grade the Phase 1 quiz (quiz.md).

The explanations are released with the course: `quiz_explanations.md` holds every answer
with why it is right (the reference solutions are in the repository too, so a hidden key
would only pretend). The grader reads the answers from there, the one source; it never
prints an answer itself. Read the explanations after you have tried.

Each question's form comes from its heading in quiz.md: `(A–D)` wants one letter,
`(short answer: a shape ...)` a shape such as (2, 3), `(short answer: a number)` a number.
An answer in the wrong form ("D - GradScaler", "E") is reported as a format problem,
apart from wrong answers, and scores nothing until it is fixed.

Usage:
    pytest -m quiz                              # the usual way: part of the progress table
    python harness/quiz.py [ANSWERS_FILE]     # default: quiz_answers.txt
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ANSWERS = ROOT / "quiz_answers.txt"
EXPLANATIONS = ROOT / "quiz_explanations.md"
QUIZ = ROOT / "quiz.md"
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


@dataclass(frozen=True)
class Question:
    number: int
    kind: str  # "choice", "shape", "number" or "text"
    letters: str = ""  # for "choice": the options, e.g. "ABCD"

    def format_problem(self, answer: str) -> str | None:
        """None when `answer` has the form the question asks for, else what to write instead."""
        text = answer.strip()
        if self.kind == "choice":
            options = f"{self.letters[0]}–{self.letters[-1]}"
            letter = re.fullmatch(r"\(?([A-Za-z])[).]?", text)
            if not letter:
                return f"answer with one letter {options} (you wrote {text!r})"
            if letter[1].upper() not in self.letters:
                return f"{letter[1].upper()!r} is not an option: answer with one letter {options}"
            return None
        if self.kind == "shape":
            inner = re.sub(r"^torch\.Size\((.*)\)$", r"\1", text)
            if not re.fullmatch(r"[(\[]?\s*\d+\s*(,\s*\d+\s*)*,?\s*[)\]]?", inner):
                return f"answer with a shape such as (2, 3) (you wrote {text!r})"
            return None
        if self.kind == "number":
            try:
                float(text)
            except ValueError:
                return f"answer with a number such as 4 or 0.5 (you wrote {text!r})"
        return None


def read_questions(path: Path = QUIZ) -> dict[int, Question]:
    """Each `**N. Title** (form)` heading of quiz.md."""
    questions = {}
    for line in path.read_text().splitlines():
        heading = re.match(r"^\*\*(\d+)\.\s.*?\*\*\s*\((?P<form>[^)]*)\)", line)
        if not heading:
            continue
        number, form = int(heading[1]), heading["form"]
        letters = re.match(r"^([A-Z])\s*[–-]\s*([A-Z])$", form.strip())
        if letters:
            span = "".join(chr(c) for c in range(ord(letters[1]), ord(letters[2]) + 1))
            questions[number] = Question(number, "choice", span)
        elif "shape" in form:
            questions[number] = Question(number, "shape")
        elif "number" in form:
            questions[number] = Question(number, "number")
        else:
            questions[number] = Question(number, "text")
    return questions


def read_answers(path: Path) -> dict[int, str]:
    """Answers from a 'N: answer' file; missing or empty lines are blank answers."""
    answers = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^\s*(\d+)\s*[:.)]\s*(.*?)\s*$", line)
        if match and not line.lstrip().startswith("#"):
            answers[int(match[1])] = match[2]
    return answers


def read_key(path: Path = EXPLANATIONS) -> dict[int, dict[str, str]]:
    """{N: {"answer": ..., "review": ...}} from the '**Answer:**' and '**Review:**' lines under
    each '## N.' heading of quiz_explanations.md."""
    key: dict[int, dict[str, str]] = {}
    number = None
    for line in path.read_text().splitlines():
        heading = re.match(r"^##\s+(\d+)\.", line)
        if heading:
            number = int(heading[1])
            key[number] = {}
        field_line = re.match(r"^\*\*(Answer|Review):\*\*\s*(.*?)\s*$", line)
        if field_line and number is not None:
            value = field_line[2]
            if field_line[1] == "Answer":
                value = value.strip("`")
            key[number][field_line[1].lower()] = value
    return key


def read_reference_answers(path: Path = EXPLANATIONS) -> dict[int, str]:
    return {number: entry["answer"] for number, entry in read_key(path).items() if "answer" in entry}


@dataclass
class QuizResult:
    score: int
    blank: list[int] = field(default_factory=list)
    wrong: list[tuple[int, str]] = field(default_factory=list)  # (question, section to review)
    format_errors: list[tuple[int, str]] = field(default_factory=list)  # (question, what to write)

    @property
    def passed(self) -> bool:
        return self.score >= PASS_MARK

    def report(self) -> str:
        verdict = "passed" if self.passed else f"not passed ({PASS_MARK} needed)"
        lines = [f"Quiz score {self.score}/{NUM_QUESTIONS} — {verdict}."]
        for number, problem in self.format_errors:
            lines.append(f"  Question {number}: not graded: {problem}.")
        for number, review in self.wrong:
            lines.append(f"  Question {number}: not right yet. Review {review}.")
        if self.blank:
            lines.append(f"  Not answered: {', '.join(map(str, self.blank))} (write them in quiz_answers.txt).")
        if self.passed:
            lines.append("  Well done. quiz_explanations.md explains every answer and why the others tempt.")
        return "\n".join(lines)


def grade(answers: dict[int, str], key: dict | None = None, questions: dict | None = None) -> QuizResult:
    key = read_key() if key is None else key
    questions = read_questions() if questions is None else questions
    result = QuizResult(score=0)
    for number in range(1, NUM_QUESTIONS + 1):
        entry = key[number]
        answer = answers.get(number, "").strip()
        question = questions.get(number, Question(number, "text"))
        if not answer:
            result.blank.append(number)
        elif problem := question.format_problem(answer):
            result.format_errors.append((number, problem))
        elif normalise(answer) == normalise(entry["answer"]):
            result.score += 1
        else:
            result.wrong.append((number, entry.get("review", "quiz.md")))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("answers", nargs="?", type=Path, default=ANSWERS)
    args = parser.parse_args(argv)
    if not args.answers.exists():
        print(f"{args.answers} does not exist: copy the template quiz_answers.txt and fill it in.", file=sys.stderr)
        return 2
    result = grade(read_answers(args.answers))
    print(result.report())
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
