"""Importing a lab file (starter.py, solution.py or a learner's NAME.py) safely.

- Under a real module name, `<lab folder>.<file>` (e.g. `lab4_data_loading.starter`), so that a
  child process started with spawn (DataLoader workers and torchrun on macOS and Windows) can
  import it again to unpickle the learner's objects.
- With a time limit (PHASE1_IMPORT_TIMEOUT, default 60 s): SIGALRM where it exists, else a
  watchdog thread that interrupts the main thread (Windows).
- With os._exit() and sys.exit() at import turned into errors: a demo left at the top level
  fails its lab once, instead of ending the run without grading anything.
"""

from __future__ import annotations

import _thread
import importlib.util
import linecache
import os
import signal
import sys
import threading
from pathlib import Path

from harness import markers


class ImportTimeout(Exception):
    """A learner file took longer than PHASE1_IMPORT_TIMEOUT seconds to import."""


class ExitAtImport(Exception):
    """A learner file called os._exit() while being imported."""


def import_timeout() -> float:
    try:
        return float(os.environ.get("PHASE1_IMPORT_TIMEOUT", "60"))
    except ValueError:
        return 60.0


def module_name(path: Path) -> str:
    """`lab4_data_loading.starter`: the name a spawned child imports the file by (the course root is on sys.path)."""
    return f"{path.parent.name}.{path.stem}"


class _TimeLimit:
    """Raise ImportTimeout in the main thread after `seconds`: SIGALRM where the platform has it,
    else a watchdog thread that interrupts the main thread (the KeyboardInterrupt is turned back
    into ImportTimeout). Off in other threads, and for a limit of 0."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.main = threading.current_thread() is threading.main_thread() and seconds > 0
        self.alarm = self.main and hasattr(signal, "SIGALRM") and hasattr(signal, "setitimer")
        self.fired = threading.Event()
        self.done = threading.Event()

    def expired(self) -> ImportTimeout:
        return ImportTimeout(f"did not finish importing within {self.seconds:g} s")

    def __enter__(self):
        if self.alarm:
            def on_alarm(signum, frame):
                raise self.expired()

            self.previous = signal.signal(signal.SIGALRM, on_alarm)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)
        elif self.main:
            # interrupt_main() does nothing while SIGINT is ignored (a job started in the background
            # with nohup or &): give SIGINT Python's own handler for the time of the import.
            self.previous = signal.signal(signal.SIGINT, signal.default_int_handler)

            def watch():
                if not self.done.wait(self.seconds):
                    self.fired.set()
                    _thread.interrupt_main()

            threading.Thread(target=watch, name="phase1-import-limit", daemon=True).start()
        return self

    def __exit__(self, kind, error, traceback):
        self.done.set()
        if self.alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.previous)
        elif self.main:
            signal.signal(signal.SIGINT, self.previous)
        if kind is KeyboardInterrupt and self.fired.is_set():
            raise self.expired() from None
        return False


def import_lab_file(path: Path, limit: float | None = None):
    """Import one lab file under its module name; returns the module, or the exception it raised."""
    path = Path(path).resolve()
    name = module_name(path)
    existing = sys.modules.get(name)
    if existing is not None and Path(getattr(existing, "__file__", "") or "").resolve() == path:
        return existing  # imported already (the checkpoint project imports the labs' solutions)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses, pickling and spawned children look the module up here
    real_exit, pid = os._exit, os.getpid()

    def guarded_exit(code):
        if os.getpid() != pid:  # a forked worker ends as usual
            real_exit(code)
        raise ExitAtImport(f"os._exit({code}) was called")

    os._exit = guarded_exit
    try:
        with _TimeLimit(import_timeout() if limit is None else limit):
            spec.loader.exec_module(module)
    except KeyboardInterrupt:
        sys.modules.pop(name, None)
        raise
    except BaseException as error:
        sys.modules.pop(name, None)
        return error
    finally:
        os._exit = real_exit
    return module


def load_lab_file(folder: Path, impl: str = "starter"):
    """For scripts (the labs' benchmarks): folder/<impl>.py imported under its module name, saying which
    file it is. A missing file, or one that does not import, is one clear line (SystemExit)."""
    folder = Path(folder).resolve()
    path = folder / f"{impl.removesuffix('.py')}.py"
    if not path.exists():
        choices = ", ".join(sorted(p.stem for p in folder.glob("*.py") if p.stem != "benchmark"))
        raise SystemExit(f"error: {path} does not exist; choose one of: {choices}")
    if str(folder.parent) not in sys.path:
        sys.path.insert(0, str(folder.parent))  # so spawned workers can import the file by name
    module = import_lab_file(path, limit=0)
    if isinstance(module, BaseException):
        raise SystemExit(f"error: {describe_import_error(module, path, folder.parent).splitlines()[0]}")
    print(f"using {folder.name}/{path.name} (--impl starter|solution|NAME chooses the file)", flush=True)
    return module


# --------------------------------------------------------------------------- a file that does not import


def error_location(error: BaseException, path: Path) -> tuple[int, str] | None:
    """(line number, source line) in `path` where an import error happened."""
    path = Path(path).resolve()
    if isinstance(error, SyntaxError) and error.lineno and Path(error.filename or "").resolve() == path:
        return error.lineno, (error.text or "").rstrip("\n")
    found = None
    tb = error.__traceback__
    while tb is not None:
        if Path(tb.tb_frame.f_code.co_filename).resolve() == path:
            found = tb.tb_lineno
        tb = tb.tb_next
    if found is None:
        return None
    return found, linecache.getline(str(path), found).rstrip("\n")


def describe_import_error(error: BaseException, path: Path, root: Path) -> str:
    try:
        rel = Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        rel = str(path)
    location = error_location(error, path)
    where = ""
    if location:
        lineno, source = location
        function = markers.enclosing_function(Path(path).read_text(encoding="utf-8").splitlines(), lineno)
        task = markers.task_functions(Path(path).parent / "solution.py").get(function) if function else None
        inside = f"in {function}()" if function else "at the top level"
        where = f"line {lineno}, {inside}" + (f" ({task})" if task else "") + f":\n    {source.strip()}"
    if isinstance(error, SyntaxError):
        what = f"has a syntax error ({error.msg})"
    elif isinstance(error, ImportTimeout):
        what = f"{error} (an endless loop or a long run at import?)"
    elif isinstance(error, ExitAtImport):
        what = "called os._exit() while being imported, which would end the test run without grading anything"
    elif isinstance(error, SystemExit):
        what = f"called sys.exit({error.code!r}) while being imported"
    else:
        what = f"could not be imported: {type(error).__name__}: {error}"
    text = f"{rel} {what}" + (f" — {where}" if where else "")
    if isinstance(error, (ImportTimeout, ExitAtImport, SystemExit)):
        text += '\n    Code at the top level runs when the tests import the file: put demos under `if __name__ == "__main__":`.'
        if isinstance(error, ImportTimeout):
            text += " (PHASE1_IMPORT_TIMEOUT sets the limit in seconds.)"
    text += "\n    Fix it and run again: this lab's tests wait for it."
    return text
