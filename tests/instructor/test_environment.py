"""The environment's own words in a failure: a child process that spawn cannot start says so."""

import multiprocessing
import pickle

import pytest

from harness import environment


def pickling_error() -> Exception:
    def make():
        return lambda x: x  # a function defined inside another: pickling cannot name it

    try:
        pickle.dumps(make())
    except Exception as error:  # noqa: BLE001 - whatever this Python raises for it
        return error
    raise AssertionError("a local lambda pickled")


BOOTSTRAP = RuntimeError("An attempt has been made to start a new process before the\n"
                         "        current process has finished its bootstrapping phase.")


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
@pytest.mark.parametrize("error", [pickling_error(), BOOTSTRAP,
                                   AttributeError("Can't get attribute 'Flip' on <module '__main__' (built-in)>"),
                                   RuntimeError("DataLoader worker (pid(s) 4242) exited unexpectedly")],
                         ids=["local lambda", "bootstrapping", "notebook class", "worker died"])
def test_a_spawned_child_s_failure_says_it_is_the_start_method(monkeypatch, method, error):
    monkeypatch.setattr(multiprocessing, "get_start_method", lambda allow_none=False: method)
    line = environment.start_method_cause(error)
    assert line and f"start with {method}" in line and "top level" in line, line


@pytest.mark.parametrize("error", [pickling_error(), ValueError("shapes (3, 4) and (5,) do not match")])
def test_no_start_method_line_under_fork_or_for_other_errors(monkeypatch, error):
    monkeypatch.setattr(multiprocessing, "get_start_method", lambda allow_none=False: "fork")
    assert environment.start_method_cause(error) is None
    monkeypatch.setattr(multiprocessing, "get_start_method", lambda allow_none=False: "spawn")
    assert environment.start_method_cause(ValueError("shapes (3, 4) and (5,) do not match")) is None
