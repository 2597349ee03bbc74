"""Solver benchmarks: one layer with 4 unknowns and 4-layer chain designs, beside the only peer there
is: trying every combination in PyTorch (a module per combination, run on zeros), timed in the same run.

Run: make bench   (or .venv/bin/python benchmarks/solve.py)
"""

from __future__ import annotations

import itertools
import math
import timeit
import warnings

import shapesmith

ONE = ("nn.ConvTranspose2d(16, 1, kernel_size=?, stride=?, padding=?, output_padding=?)", "(1, 16, 28, 28)",
       "(1, 1, 56, 56)")
PER_AXIS = ("nn.ConvTranspose2d(16, 1, (?, ?), stride=(?, ?), padding=(?, ?), output_padding=(?, ?))",
            "(1, 16, 28, 20)", "(1, 1, 56, 41)")
ENCODER = (["nn.Conv2d(1, 8, ?, stride=?, padding=?)", "nn.Conv2d(8, 16, ?, stride=?, padding=?)",
            "nn.Conv2d(16, 32, ?, stride=?, padding=?)", "nn.Conv2d(32, 64, ?, stride=?, padding=?)"],
           "(1, 1, 28, 28)", "(1, 64, 7, 7)")
DECODER = (["nn.ConvTranspose2d(64, 64, ?, stride=?, padding=?)", "nn.ConvTranspose2d(64, 32, ?, stride=?, padding=?)",
            "nn.ConvTranspose2d(32, 32, ?, stride=?, padding=?)", "nn.ConvTranspose2d(32, 1, ?, stride=?, padding=?)"],
           "(1, 64, 7, 7)", "(1, 1, 75, 75)")


def best(fn, repeat: int = 5) -> float:
    return min(timeit.repeat(fn, number=1, repeat=repeat))


def torch_brute_force() -> int:
    """Every (kernel, stride, padding, output_padding) of ONE in torch, run on zeros (the meta device
    skips torch's output_padding check, so it would accept sizes the CPU refuses): how many give the target."""
    import torch
    torch.set_num_threads(1)
    x = torch.zeros(1, 16, 28, 28)
    hits = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k, s, p, op in itertools.product(range(1, 8), range(1, 5), range(0, 4), range(0, 4)):
            try:
                m = torch.nn.ConvTranspose2d(16, 1, k, stride=s, padding=p, output_padding=op)
                with torch.no_grad():
                    hits += tuple(m(x).shape) == (1, 1, 56, 56)
            except RuntimeError:
                pass
    return hits


def main() -> None:
    one = best(lambda: shapesmith.solve(ONE[0], input_shape=ONE[1], output_shape=ONE[2]))
    n = len(shapesmith.solve(ONE[0], input_shape=ONE[1], output_shape=ONE[2]).solutions)
    print(f"solve, 1 layer, 4 unknowns             {one * 1e3:8.1f} ms   {n} solutions   (target < 20 ms)")
    per_axis = best(lambda: shapesmith.solve(PER_AXIS[0], input_shape=PER_AXIS[1], output_shape=PER_AXIS[2]))
    print(f"solve, 1 layer, 8 per-axis unknowns    {per_axis * 1e3:8.1f} ms")
    try:
        brute = best(lambda: torch_brute_force(), repeat=3)
        hits = torch_brute_force()
        print(f"  peer: every combination in torch     {brute * 1e3:8.1f} ms   {hits} solutions   "
              f"shapesmith is {brute / one:.1f}x faster")
        per_combo = brute / (7 * 4 * 4 * 4)
    except ImportError:
        per_combo = None
        print("  torch not installed: no brute-force comparison")
    for name, (layers, i, o) in (("encoder", ENCODER), ("decoder", DECODER)):
        t = best(lambda: shapesmith.solve_chain(layers, input_shape=i, output_shape=o), repeat=3)
        d = shapesmith.solve_chain(layers, input_shape=i, output_shape=o)
        line = (f"solve_chain, 4-layer {name}, 3 unknowns each {t * 1e3:6.0f} ms   {d.total:,} designs, ranked "
                f"(target < 1 s)")
        if per_combo is not None:
            combos = math.prod(7 * 4 * 4 for _ in layers)
            line += f"; trying all {combos:.1e} chains in torch: ~{combos * per_combo / 3600:,.0f} h"
        print(line)


if __name__ == "__main__":
    main()
