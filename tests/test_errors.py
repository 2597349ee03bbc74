"""Bad input: every error is a ShapesmithError naming what was received, what was expected, the fix."""

from __future__ import annotations

import pytest

import shapesmith
from shapesmith import ShapesmithError

CASES = [
    # (layer, input, framework, message pattern)
    ("nn.Conv2d(3, 8, 7)", "(1, 3, 5, 5)", None, r"windows: floor\(\(5 \+ 0 \+ 0 - 1\*\(7 - 1\) - 1\)/1\) \+ 1 = -1.*fix:"),
    ("nn.Conv2d(3, 8, 3)", "(1, 4, 5, 5)", None, r"input has 4 channels but the layer was built for 3.*fix: set in_channels=4"),
    ("nn.Conv2d(3, 8, 3)", "(3, 5)", None, r"received a 2-D input.*expected a 4-D input \(N, C, H, W\)"),
    ("nn.Conv2d(3, 8, 3)", "(1, 3, 5)", None, r"read as an unbatched input \(C, H, W\): the input has 1 channels"),
    ("nn.Conv2d(3, 8, 3, stride=2, padding='same')", "(1, 3, 8, 8)", None, "padding='same' is not supported for strided"),
    ("nn.Conv2d(3, 8, 3, padding='full')", "(1, 3, 8, 8)", None, "Invalid padding string 'full'"),
    ("nn.Conv2d(3, 8, 3, groups=2)", "(1, 3, 8, 8)", None, "in_channels must be divisible by groups"),
    ("nn.Conv2d(3, 8, 3, padding_mode='reflect', padding=5)", "(1, 3, 4, 4)", None, "padding less than the input"),
    ("nn.Conv2d(3, 8, 3, strides=2)", "(1, 3, 8, 8)", None, r"unexpected keyword argument 'strides'.*did you mean 'stride'"),
    ("nn.Conv2d(3, 8, (3, 3, 3))", "(1, 3, 8, 8)", None, "has 3 values"),
    ("nn.Conv2d(3, 8, 0)", "(1, 3, 8, 8)", None, "kernel_size=0 is less than 1"),
    ("nn.ConvTranspose2d(3, 8, 3, stride=2, output_padding=2)", "(1, 3, 8, 8)", None,
     "output padding must be smaller than either stride or dilation"),
    ("nn.ConvTranspose2d(3, 8, 3, stride=2)(x, output_size=(30, 30))", "(1, 3, 8, 8)", None,
     r"requested an output size of \(30, 30\), but valid sizes range from \(17, 17\) to \(18, 18\)"),
    ("nn.MaxPool2d(3, padding=2)", "(1, 3, 8, 8)", None, "pad should be at most half of effective kernel size"),
    ("nn.Conv9d(3, 8, 3)", "(1, 3, 8, 8)", None, r"not a layer shapesmith knows.*did you mean"),
    ("Conv2D(8, 3, strides=2, dilation_rate=2)", "(None, 8, 8, 3)", None, "`strides > 1` not supported in conjunction"),
    ("Conv2DTranspose(8, 3, strides=2, output_padding=2)", "(None, 8, 8, 3)", None,
     "`output_padding` must be strictly less than `strides`"),
    ("Conv2D(8, 3, padding='causal')", "(None, 8, 8, 3)", None, "padding"),
    ("Conv2D(8, 3, batch_input_shape=(None, 8, 8, 3))", "(None, 8, 8, 3)", "keras", "unexpected keyword argument 'batch_input_shape'"),
    ("Convolution2D(16, 7, 7, border_mode='bogus')", "(None, 1, 28, 28)", None, "Invalid border mode"),
    ("tf.nn.conv2d(x, filters=(3, 3, 3, 8), strides=1, padding='same')", "(1, 8, 8, 3)", None,
     "not in the list of allowed values.*fix: write padding='SAME'"),
    ("tf.nn.conv2d_transpose(x, filters=(3, 3, 8, 4), output_shape=(1, 30, 30, 8), strides=2, padding='SAME')",
     "(1, 8, 8, 4)", None, r"expected a size in \[15, 16\]"),
    ("Conv(kernel_shape=[3, 3], pads=[1, 1, 1, 1], auto_pad='SAME_UPPER')", "(1, 3, 8, 8)", "onnx", "cannot be used together"),
    ("MaxPool(strides=[2, 2])", "(1, 3, 8, 8)", "onnx", "needs kernel_shape"),
    ("nn.Conv2d(3, 8, 3)", "(1, 3, h w)", None, "cannot read"),
    ("import os", "(1, 3, 8, 8)", None, "no layer given"),
    ("x = 1 + 2", "(1, 3, 8, 8)", None, "is not something shapesmith reads"),
    ("for i in range(3): pass", "(1, 3, 8, 8)", None, "is not something shapesmith reads"),
    ("nn.Conv2d(*args)", "(1, 3, 8, 8)", None, r"\*args"),
    ("nn.Conv2d(3, 8, 3)", None, None, "no input shape.*fix: pass --input"),
]


@pytest.mark.parametrize("layer, shape, framework, pattern", CASES)
def test_error_messages(layer, shape, framework, pattern):
    with pytest.raises(ShapesmithError, match=pattern) as info:
        shapesmith.trace(layer, input_shape=shape, framework=framework)
    assert isinstance(info.value, ValueError)
