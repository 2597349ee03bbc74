"""The numpy forward beside PyTorch's CPU kernels, same thread count: conv, transposed conv, LSTM.

Run: .venv/bin/python benchmarks/forward.py [--threads N] [--repeat N]

Each case: the layer is built once from its text (as the torch module is constructed once), then
shapesmith's forward and torch's (under ``torch.no_grad``) run alternately after a warm-up; the best
of ``--repeat`` runs of each is kept; ``max err`` is the largest difference of the outputs relative to
torch's largest value. numpy's BLAS thread count is set before numpy loads
(threadpoolctl when installed, else the OpenBLAS / OpenMP / MKL environment variables) and torch
gets the same count. Targets: within 1.3x of torch on the convs, within 2x on the LSTM.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

CASES = [  # (layer text, input shape, repeats relative to --repeat, target ratio)
    ("nn.Conv1d(16, 16, 3, padding=1)", (1, 16, 8820), 10, 1.3),
    ("nn.Conv1d(64, 64, 3)", (8, 64, 16384), 1, 1.3),
    ("nn.Conv2d(64, 64, 3, padding=1)", (8, 64, 56, 56), 2, 1.3),
    ("nn.ConvTranspose2d(64, 32, 4, stride=2)", (8, 64, 28, 28), 4, 1.3),
    ("nn.LSTM(64, 128, batch_first=True)", (32, 100, 64), 2, 2.0),
]


def _threads() -> tuple[int, int]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="BLAS and torch threads (default 1)")
    parser.add_argument("--repeat", type=int, default=15, help="timed runs of each (best kept)")
    args = parser.parse_args()
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(args.threads)
    return args.threads, args.repeat


def _blas_limit(threads: int):
    """threadpoolctl's limit when it is installed (it also reports what numpy's BLAS uses)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    return threadpool_limits(limits=threads, user_api="blas")


def _best(fns: dict, repeat: int) -> dict[str, float]:
    for fn in fns.values():  # warm up (first-touch allocations, BLAS buffers, torch's kernel choice)
        fn()
        fn()
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeat):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def main() -> None:
    threads, repeat = _threads()
    import numpy as np
    import torch

    from shapesmith import ShapesmithError
    from shapesmith.dialects import build_layer
    from shapesmith.numeric import forward

    torch.set_num_threads(threads)
    limit = _blas_limit(threads)
    print(f"threads: torch {torch.get_num_threads()}, numpy BLAS {threads} "
          f"({'threadpoolctl' if limit else 'environment variables'}); numpy {np.__version__}, "
          f"torch {torch.__version__}; best of {repeat} (x the case's factor), interleaved")
    header = (f"{'layer':42} {'input':18} {'shapesmith':>11} {'torch':>10} {'ratio':>7} {'target':>7}       "
              f"{'max err':>8}")
    print(header)
    print("-" * len(header))
    torch.manual_seed(0)
    for text, shape, factor, target in CASES:
        module = eval("torch." + text, {"torch": torch})  # noqa: S307 - the fixed texts above
        module.eval()
        x = torch.randn(shape)
        x_np = x.numpy()
        weights = {k: v.detach().numpy() for k, v in module.state_dict().items()}
        layer = build_layer(text)
        row = f"{text:42} {str(shape):18}"
        try:
            mine = forward(layer, x_np, weights)
        except ShapesmithError as err:
            print(f"{row} {'not available':>11}  ({err})")
            continue
        with torch.no_grad():
            theirs = module(x)
        theirs = theirs[0] if isinstance(theirs, tuple) else theirs
        mine = mine[0] if isinstance(mine, tuple) else mine
        error = float(np.abs(mine - theirs.numpy()).max() / max(1e-30, float(theirs.abs().max())))
        with torch.no_grad():
            best = _best({"shapesmith": lambda: forward(layer, x_np, weights), "torch": lambda: module(x)},
                         repeat * factor)
        ratio = best["shapesmith"] / best["torch"]
        verdict = "ok" if ratio <= target else "over"
        print(f"{row} {best['shapesmith'] * 1e3:8.2f} ms {best['torch'] * 1e3:7.2f} ms {ratio:6.2f}x "
              f"{target:5.1f}x  {verdict:4} {error:8.1e}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
