"""The command line: JSON as in SPEC.md, one-line errors with exit code 2, no traceback."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from shapesmith.cli import main


def run(args, capsys):
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_layer_json_matches_the_python_api(capsys):
    import shapesmith
    code, out, _ = run(["layer", "Conv2D(8, 3, strides=2, padding='same')", "--input", "(None, h, w, 3)", "--json"],
                       capsys)
    assert code == 0
    data = json.loads(out)
    assert data == shapesmith.trace("Conv2D(8, 3, strides=2, padding='same')", input_shape="(None, h, w, 3)").to_dict()
    assert data["framework"] == "keras"
    assert data["input_shape"] == [None, "h", "w", 3]
    assert set(data) >= {"framework", "input_shape", "output_shape", "layers", "params", "constraints", "warnings"}
    assert set(data["layers"][0]) >= {"index", "name", "type", "input_shape", "output_shape", "params", "notes"}


@pytest.mark.parametrize("args", [
    ["layer", "nn.Conv2d(3, 8, 7)", "--input", "(1, 3, 5, 5)"],
    ["layer", "nn.Conv2d(3, 8, 7)", "--input", "(1, 3"],
    ["layer", "Bogus(1)", "--input", "(1, 3, 5, 5)"],
    ["layer", "nn.Conv2d(3, 8, 3)"],
    ["layer", "nn.Conv2d(3, 8, 3)", "--framework", "nope", "--input", "(1, 3, 5, 5)"],
])
def test_errors_are_one_line_with_exit_code_2(args, capsys):
    code, out, err = run(args, capsys)
    assert code == 2
    assert out == ""
    assert err.startswith("error: ") and err.count("\n") == 1
    assert "Traceback" not in err


def test_python_dash_m_runs_as_a_process():
    proc = subprocess.run([sys.executable, "-m", "shapesmith", "layer", "nn.Conv1d(16, 16, 3, dilation=2)",
                           "--input", "1x16x8820"], capture_output=True, text=True, check=True)
    assert "(1, 16, 8816)" in proc.stdout
    bad = subprocess.run([sys.executable, "-m", "shapesmith", "layer", "nn.Conv1d(16, 16, 3)", "--input", "1x3x10"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_import_loads_no_deep_learning_framework():
    code = ("import sys, shapesmith, shapesmith.cli, shapesmith.render.text;"
            "shapesmith.trace('nn.Conv2d(3, 8, 3)', input_shape='(1, 3, 8, 8)');"
            "heavy = [m for m in ('torch', 'keras', 'tensorflow', 'onnx', 'onnxruntime', 'jax', 'sympy') if m in sys.modules];"
            "print(heavy)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"


def test_repeated_input_feeds_a_merge(capsys):
    code, out, _ = run(["layer", "Concatenate(axis=1)", "-i", "(None, 4, h)", "-i", "(None, 6, h)", "--json"], capsys)
    assert code == 0
    data = json.loads(out)
    assert data["input_shape"] == [[None, 4, "h"], [None, 6, "h"]] and data["output_shape"] == [None, 10, "h"]


def test_solve_json_is_the_python_result(capsys):
    import shapesmith
    args = ["nn.ConvTranspose2d(16, 1, ?, stride=?, padding=1)", "--input", "(1, 16, 28, 28)", "--output",
            "(1, 1, 56, 56)"]
    code, out, _ = run(["solve", *args, "--json"], capsys)
    assert code == 0
    data = json.loads(out)
    assert data == shapesmith.solve(args[0], input_shape=args[2], output_shape=args[4]).to_dict()
    assert set(data) >= {"solutions", "reachable"} and data["solutions"]
    for sol in data["solutions"]:
        code, out, _ = run(["layer", sol["layer"], "--input", "(1, 16, 28, 28)", "--json"], capsys)
        assert json.loads(out)["output_shape"] == [1, 1, 56, 56]


def test_solve_reads_a_chain_from_stdin(capsys, monkeypatch):
    import io
    monkeypatch.setattr("sys.stdin", io.StringIO("nn.Conv2d(1, 4, ?, stride=2)\n# comment\nnn.Conv2d(4, 8, ?, stride=2)\n"))
    code, out, _ = run(["solve", "-", "--input", "(1, 1, 28, 28)", "--output", "(1, 8, 6, 6)", "--json"], capsys)
    data = json.loads(out)
    assert code == 0 and data["total"] == len(data["designs"]) > 0
    assert all(d["shapes"][-1] == [1, 8, 6, 6] for d in data["designs"])


@pytest.mark.parametrize("args", [
    ["solve", "nn.Conv2d(1, 8, ?)", "--input", "(1, 1, 9, 9)", "--output", "(1, 8, 7"],
    ["solve", "nn.Conv2d(1, 8, bogus=?)", "--input", "(1, 1, 9, 9)", "--output", "(1, 8, 7, 7)"],
    ["solve", "nn.Conv2d(1, 8, ?)", "--input", "(1, 1, 9, 9)"],
    ["solve", "nn.Conv2d(1, 8, ?)\nnn.Conv2d(8, 8, ?)", "--input", "(1, 1, 9, 9)"],
    ["solve", "nn.Conv2d(1, 8, 3..1)", "--input", "(1, 1, 9, 9)", "--output", "(1, 8, 7, 7)"],
])
def test_solve_errors_are_one_line_with_exit_code_2(args, capsys):
    code, out, err = run(args, capsys)
    assert code == 2 and out == "" and err.startswith("error: ") and err.count("\n") == 1
