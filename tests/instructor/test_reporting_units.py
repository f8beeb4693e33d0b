"""Small pieces of the learner's failure report, checked directly."""

from types import SimpleNamespace

from harness import reporting


def fake_failure(message: str, test_name: str):
    excinfo = SimpleNamespace(value=AssertionError(message), traceback=[])
    return excinfo, SimpleNamespace(name=test_name, path="tests/test_fake.py")


def test_the_pointer_prefers_the_function_the_message_names():
    functions = ("export_onnx", "check_onnx", "export")
    excinfo, item = fake_failure("onnxruntime could not run it: does export_onnx mark the batch dynamic?",
                                 "test_onnx_export_matches_pytorch")
    assert reporting.called_function(excinfo, item, functions) == "export_onnx"
    excinfo, item = fake_failure("the file differs", "test_onnx_export_matches_pytorch")
    assert reporting.called_function(excinfo, item, functions) == "export", "else the function the test's name names"
    excinfo, item = fake_failure("export_onnx and check_onnx disagree", "test_round_trip")
    assert reporting.called_function(excinfo, item, functions) == "export_onnx", "two named: fall back (here: the first)"


def test_captured_output_is_cut_to_its_last_lines_and_library_logging_left_out():
    sections = [("Captured stdout call", "".join(f"line {i}\n" for i in range(40))),
                ("Captured log call", "DEBUG torch.__trace x\n" * 40), ("Captured stderr call", "one line\n")]
    kept = dict(reporting.trimmed_sections(sections))
    assert "Captured log call" not in kept
    stdout = kept["Captured stdout call"].splitlines()
    assert len(stdout) == reporting.CAPTURED_LINES + 1 and stdout[-1] == "line 39" and "35 earlier lines" in stdout[0], stdout
    assert kept["Captured stderr call"] == "one line\n"
