"""Frameworks stay optional: with torch, keras, onnx (and the weight-file libraries) unimportable, every command
that does not need them works, and the others say which extra to install."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

MISSING = ("torch", "keras", "onnx", "onnxruntime", "jax", "tensorflow", "h5py", "safetensors", "torchinfo")
RUN = ("import sys\n"
       f"for name in {MISSING!r}:\n"
       "    sys.modules[name] = None  # `import name` now raises ImportError\n"
       "from shapesmith.cli import main\n"
       "sys.exit(main(sys.argv[1:]))\n")


def shapesmith(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", RUN, *args], capture_output=True, text=True, cwd=cwd, timeout=120)


@pytest.mark.parametrize("args", [
    ["layer", "nn.Conv2d(3, 8, 3)", "--input", "(1, 3, 9, 9)"],
    ["layer", "Conv2DTranspose(1, 4, strides=2, padding='same')", "--input", "(None, 7, 7, 16)"],
    ["trace", "-", "--input", "(1, 3, 9, 9)"],
    ["solve", "nn.ConvTranspose2d(16, 1, ?, stride=?, padding=1)", "--input", "(1, 16, 7, 7)", "--output",
     "(1, 1, 14, 14)"],
    ["solve", "nn.Conv2d(3, 8, 3, stride=2, padding=1)", "--input", "(1, 3, 28, 27)"],
])
def test_commands_that_need_no_framework_work_without_them(args, tmp_path):
    out = shapesmith(*args, cwd=tmp_path) if args[1] != "-" else subprocess.run(
        [sys.executable, "-c", RUN, *args], input="nn.Conv2d(3, 8, 3)\nnn.ReLU()\n", capture_output=True, text=True,
        cwd=tmp_path, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "(1, 8" in out.stdout or "(None" in out.stdout or "solution" in out.stdout


def test_forward_from_npz_weights_needs_only_numpy(tmp_path):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "x.npy", rng.standard_normal((1, 4, 16)).astype(np.float32))
    np.savez(tmp_path / "w.npz", weight=rng.standard_normal((8, 4, 3)).astype(np.float32),
             bias=np.zeros(8, np.float32))
    out = shapesmith("forward", "nn.Conv1d(4, 8, 3)", "--input", "x.npy", "--weights", "w.npz", "--output", "y.npy",
                     cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert np.load(tmp_path / "y.npy").shape == (1, 8, 14)


SAFETENSORS = b'{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}'
FILES = {  # the first bytes each reader checks, so the missing library is what stops it
    "w.pt": b"\x80\x02}q\x00.",  # a plain (legacy) pickle: only torch reads it
    "w.safetensors": len(SAFETENSORS).to_bytes(8, "little") + SAFETENSORS + b"\0\0\0\0",
    "w.weights.h5": b"\x89HDF\r\n\x1a\n" + b"\0" * 64,
    "m.onnx": b"\x08\x07\x12\x04test",
}


@pytest.mark.parametrize(("name", "extra"), [("w.pt", "torch"), ("w.safetensors", "weights"),
                                             ("w.weights.h5", "weights"), ("m.onnx", "onnx")])
def test_files_of_a_missing_framework_name_the_extra(name, extra, tmp_path):
    (tmp_path / name).write_bytes(FILES[name])
    np.save(tmp_path / "x.npy", np.zeros((1, 4, 16), np.float32))
    out = shapesmith("forward", "nn.Conv1d(4, 8, 3)", "--input", "x.npy", "--weights", name, cwd=tmp_path)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert f"shapesmith[{extra}]" in out.stderr, out.stderr
