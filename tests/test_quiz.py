"""The Phase 1 quiz: `pytest -m quiz` grades quiz_answers.txt (--impl solution: the reference answers)."""

from pathlib import Path

import pytest

from tools import grade_quiz  # the repository root is on sys.path (rootdir conftest.py)

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.quiz
@pytest.mark.taskq_1
def test_quiz(request):
    impl = request.config._phase1.impl
    if impl == "solution":
        answers, source = grade_quiz.read_reference_answers(), "quiz_explanations.md"
    else:
        answers, source = grade_quiz.read_answers(grade_quiz.ANSWERS), "quiz_answers.txt"
    result = grade_quiz.grade(answers)
    request.config._phase1.quiz = result
    if len(result.blank) == grade_quiz.NUM_QUESTIONS:
        todo = NotImplementedError(
            f"TODO(taskq_1): answer the {grade_quiz.NUM_QUESTIONS} questions of quiz.md — "
            f"score 0/{grade_quiz.NUM_QUESTIONS}, not passed ({grade_quiz.PASS_MARK} needed)"
        )
        todo.phase1_where = f"write your answers in {source}"
        raise todo
    assert result.passed, result.report()


# --------------------------------------------------------------------------- the grader itself


def test_blank_template_scores_zero_and_does_not_pass():
    result = grade_quiz.grade(grade_quiz.read_answers(grade_quiz.ANSWERS))
    assert result.score == 0 and not result.passed
    assert "0/10 — not passed" in result.report()


def test_reference_answers_match_the_key():
    reference = grade_quiz.read_reference_answers()
    assert sorted(reference) == list(range(1, 11)), "quiz_explanations.md needs an **Answer:** for each question"
    assert grade_quiz.grade(reference).score == 10


def test_eight_right_passes_and_report_never_reveals_answers(tmp_path):
    reference = grade_quiz.read_reference_answers()
    answers = dict(reference)
    answers[2] = "A" if reference[2] != "A" else "B"
    answers[9] = ""
    path = tmp_path / "answers.txt"
    path.write_text("\n".join(f"{n}: {a}" for n, a in answers.items()))
    result = grade_quiz.grade(grade_quiz.read_answers(path))
    assert result.score == 8 and result.passed
    report = result.report()
    assert "Question 2: not right yet. Review lab1_tensors/README.md" in report
    assert "Not answered: 9" in report
    for number in (2, 9):
        assert f"Answer: {reference[number]}" not in report and f"'{reference[number]}'" not in report


def test_seven_right_does_not_pass(tmp_path):
    answers = grade_quiz.read_reference_answers()
    for number in (1, 3, 4):
        answers[number] = "Z"
    result = grade_quiz.grade(answers)
    assert result.score == 7 and not result.passed
    assert "not passed (8 needed)" in result.report()


@pytest.mark.parametrize("given, expected", [(" (8,3,5) ", "(8, 3, 5)"), ("torch.Size([8, 3, 5])", "(8, 3, 5)"), ("12.0", "12"), ("b", "B")])
def test_answers_are_normalised(given, expected):
    assert grade_quiz.normalise(given) == grade_quiz.normalise(expected)


def test_every_question_has_a_review_pointer_that_exists():
    for number, entry in grade_quiz.load_key().items():
        folder = entry["review"].split("/")[0]
        assert (ROOT / folder).is_dir(), f"question {number} points to a missing folder: {entry['review']}"
