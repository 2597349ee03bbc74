"""Values compared with a framework's: float32 within 1e-5, float64 within 1e-10, relative to the largest value."""

from __future__ import annotations

import numpy as np


def close(y: np.ndarray, ref: np.ndarray) -> None:
    assert y.shape == ref.shape
    assert y.dtype == ref.dtype
    tol = 1e-10 if ref.dtype == np.float64 else 1e-5
    np.testing.assert_allclose(y, ref, rtol=tol, atol=tol * max(1.0, float(np.abs(ref).max(initial=0))))
