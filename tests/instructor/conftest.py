"""Instructor checks (this folder runs only with --impl solution): start the rehearsal of a learner's
run (test_learner_run.py) in the background as soon as collection ends, so that it runs beside the
other tests instead of after them (its tests run last)."""

from test_learner_run import REHEARSAL, Rehearsal


def pytest_collection_modifyitems(items):
    """The rehearsal's tests go last: by then its background run has finished."""
    items.sort(key=lambda item: item.path.name == "test_learner_run.py")


def pytest_collection_finish(session):
    if any(item.path.name == "test_learner_run.py" for item in session.items):
        session.config.stash[REHEARSAL] = Rehearsal()


def pytest_unconfigure(config):
    rehearsal = config.stash.get(REHEARSAL, None)
    if rehearsal is not None:
        rehearsal.close()
