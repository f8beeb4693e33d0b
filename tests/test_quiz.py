"""The Phase 1 quiz: `pytest -m quiz` grades quiz_answers.txt (--impl solution: the reference answers).

The grader's own checks are instructor checks in tests/instructor/test_harness.py."""

import pytest

from harness import quiz as grade_quiz  # the repository root is on sys.path (rootdir conftest.py)
from harness.state import run_state
from harness.todos import TodoReached


@pytest.mark.quiz
@pytest.mark.taskq_1
def test_quiz(request):
    state = run_state(request.config)
    impl = state.impl
    if impl == "solution":
        answers, source = grade_quiz.read_reference_answers(), "quiz_explanations.md"
    else:
        answers, source = grade_quiz.read_answers(grade_quiz.ANSWERS), "quiz_answers.txt"
    result = grade_quiz.grade(answers)
    state.progress.quiz = result
    if len(result.blank) == grade_quiz.NUM_QUESTIONS:
        raise TodoReached(
            f"TODO(taskq_1): answer the {grade_quiz.NUM_QUESTIONS} questions of quiz.md — "
            f"score 0/{grade_quiz.NUM_QUESTIONS}, not passed ({grade_quiz.PASS_MARK} needed)",
            where=f"write your answers in {source}",
        )
    if not result.passed:
        pytest.fail(result.report(), pytrace=False)
