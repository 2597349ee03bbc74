"""Hostile text is read, never run: no injection attempt creates a file, and each gives a
ShapesmithError or a harmless answer."""

from __future__ import annotations

import pytest

import shapesmith
from shapesmith import ShapesmithError


def attempts(target: str) -> list[str]:
    create = f"open({target!r}, 'w').write('x')"
    return [
        f"__import__('os').system('touch {target}')",
        f"nn.Conv2d(3, 8, {create})",
        f"nn.Conv2d(3, 8, 3)(x, output_size={create})",
        f"Conv2D(8, 3, padding=(lambda: {create})())",
        f"Conv2D(8, [{create} for _ in range(1)])",
        f"Conv2D(8, 3, name=f'{{{create}}}')",
        f"x = {create}",
        f"import os\nos.system('touch {target}')",
        f"exec({create!r})",
        f"Dense(units=eval({create!r}))",
        f"Dense(8).__class__.__init__.__globals__['os'].system('touch {target}')",
        f"keras.Input(shape=({create},))\nDense(8)",
        f"model = keras.Sequential([Dense(8, input_shape=({create},))])",
        "Dense(" + "9" * 5000 + ")",
        "Dense(" + "(" * 200 + "8" + ")" * 200 + ")",
        "Dense(8, input_shape=(" + "-" * 500 + "h,))",
        "Dense(8)" + "(x)" * 500,
    ]


@pytest.mark.parametrize("index", range(len(attempts("x"))))
def test_injection_does_nothing(tmp_path, index):
    target = tmp_path / "pwned"
    text = attempts(str(target))[index]
    for shape in (None, "(None, 4)", f"(None, {text})"):
        try:
            shapesmith.trace(text, input_shape=shape)
        except ShapesmithError:
            pass
    assert not target.exists()


def test_symbolic_nesting_is_bounded_with_a_clear_message():
    stack = "\n".join(["nn.ConvTranspose2d(4, 4, 3, stride=2)", "nn.Conv2d(4, 4, 2, stride=3)"] * 200)
    with pytest.raises(ShapesmithError, match="nests more than 64 floors.*fix: give that input dim as a number"):
        shapesmith.trace(stack, input_shape="(1, 4, h, w)")
    assert shapesmith.trace(stack, input_shape="(1, 4, 50, 60)").output_shape[2] > 0


def test_ten_thousand_layers():
    stack = "\n".join(["nn.Conv2d(4, 4, 3, padding=1)", "nn.ReLU()"] * 5000)
    assert len(shapesmith.trace(stack, input_shape="(1, 4, h, w)").layers) == 10_000


@pytest.mark.parametrize("index", range(len(attempts("x"))))
def test_injection_does_nothing_in_the_solver_the_forward_or_the_page(tmp_path, index):
    """The same attempts as solver templates, as layers to run in numpy, and as the page's requests."""
    import numpy as np
    target = tmp_path / "pwned"
    text = attempts(str(target))[index]
    calls = [lambda: shapesmith.solve(text, input_shape="(1, 3, 9, 9)", output_shape="(1, 8, 7, 7)"),
             lambda: shapesmith.solve(text.replace("3)", "?)"), input_shape="(1, 3, 9, 9)", output_shape="(1, 8, 7, 7)"),
             lambda: shapesmith.solve_chain([text, text], input_shape="(1, 3, 9, 9)", output_shape="(1, 8, 5, 5)"),
             lambda: shapesmith.forward(text, np.zeros((1, 3, 9, 9), np.float32), {})]
    for call in calls:
        try:
            call()
        except ShapesmithError:
            pass
    pytest.importorskip("starlette")
    from shapesmith.web.app import ENDPOINTS, _answer
    for path in ENDPOINTS:
        status, _ = _answer(ENDPOINTS[path], {"code": text, "input": "(1, 3, 9, 9)", "target": "(1, 8, 7, 7)"})
        assert status < 500
    assert not target.exists()
