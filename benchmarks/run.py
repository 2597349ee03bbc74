"""Shape-engine benchmarks: one concrete layer inference, a symbolic one, and the CLI start-up,
beside PyTorch's own shape machinery (a meta-device forward) in the same run.

Run: make bench   (or .venv/bin/python benchmarks/run.py)
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import timeit

import shapesmith
from shapesmith.dialects import build_layer
from shapesmith.dims import parse_shape

LAYER = "nn.Conv2d(64, 128, 3, stride=2, padding=1)"
CONCRETE = parse_shape("(8, 64, 56, 56)")
SYMBOLIC = parse_shape("(8, 64, h, w)")


def per_call(fn, number: int) -> float:
    """Best of 5 repeats, seconds per call."""
    return min(timeit.repeat(fn, number=number, repeat=5)) / number


def main() -> None:
    layer = build_layer(LAYER)
    infer = per_call(lambda: layer.infer(CONCRETE), 20000)
    infer_sym = per_call(lambda: layer.infer(SYMBOLIC), 5000)
    full = per_call(lambda: shapesmith.trace(LAYER, input_shape="(8, 64, 56, 56)"), 5000)
    print(f"layer inference, concrete      {infer * 1e6:8.1f} us   (target < 50 us)")
    print(f"layer inference, symbolic h, w {infer_sym * 1e6:8.1f} us")
    print(f"trace() from text, concrete    {full * 1e6:8.1f} us   (parse + build + infer)")
    try:
        import torch
        torch.set_num_threads(1)
        module = torch.nn.Conv2d(64, 128, 3, stride=2, padding=1, device="meta")
        x = torch.empty(8, 64, 56, 56, device="meta")
        meta = per_call(lambda: module(x).shape, 2000)
        print(f"torch meta-device forward      {meta * 1e6:8.1f} us   shapesmith infer is {meta / infer:.1f}x faster, "
              f"trace() from text {meta / full:.1f}x")
    except ImportError:
        print("torch not installed: no meta-device comparison")
    stack = "\n".join(["nn.Conv2d(16, 16, 3, padding=1)", "nn.ReLU()", "nn.BatchNorm2d(16)",
                        "nn.MaxPool2d(3, stride=1, padding=1)"] * 125)
    concrete = per_call(lambda: shapesmith.trace(stack, input_shape="(8, 16, 64, 64)"), 5)
    symbolic = per_call(lambda: shapesmith.trace(stack, input_shape="(8, 16, h, w)"), 3)
    print(f"500-layer stack, concrete      {concrete * 1e3:8.1f} ms   (target well under 50 ms)")
    print(f"500-layer stack, symbolic      {symbolic * 1e3:8.1f} ms   (target under 1 s)")
    command = [sys.executable, "-m", "shapesmith", "layer", LAYER, "--input", "(8, 64, 56, 56)"]
    subprocess.run(command, check=True, capture_output=True)
    times = []
    for _ in range(15):
        start = timeit.default_timer()
        subprocess.run(command, check=True, capture_output=True)
        times.append(timeit.default_timer() - start)
    baseline = []
    for _ in range(15):
        start = timeit.default_timer()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        baseline.append(timeit.default_timer() - start)
    cache = "off: PYTHONDONTWRITEBYTECODE is set" if os.environ.get("PYTHONDONTWRITEBYTECODE") else "on"
    print(f"`shapesmith layer` process      {statistics.median(times) * 1e3:8.1f} ms   (target < 250 ms; "
          f"bare python start-up {statistics.median(baseline) * 1e3:.1f} ms; bytecode cache {cache})")


if __name__ == "__main__":
    main()
