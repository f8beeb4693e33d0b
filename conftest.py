"""The course's self-grading harness, loaded for every pytest run in this repository.

The harness is the `harness` package (harness/README.md): one module per concern. The order is
the order of their imports (a plugin module is registered before one that imports it).
"""

pytest_plugins = [
    "harness.environment",  # the environment lines at the top of every run
    "harness.progress",  # the progress table, --check-starter, --phase1-results
    "harness.selection",  # --impl, markers from course.toml, which tests run
    "harness.fixtures",  # lab, lab_path, run_lab_script, cifar10_dir, one_thread
    "harness.reporting",  # short failures and one-line TODOs
    "harness.hints",  # pytest --hint TASK
    "pytester",  # the harness's own tests (tests/instructor/test_harness.py) run it on a fake course
]
