"""`make demo`: a short tour of what shapesmith answers. Needs no deep-learning framework."""

from __future__ import annotations

import shlex
from pathlib import Path

from shapesmith.cli import main

ROOT = Path(__file__).resolve().parent.parent
TOUR = [
    ("Output shape of a PyTorch conv, symbolic in h and w",
     'shapesmith layer "nn.Conv2d(3, 64, 7, stride=2, padding=3)" --input "(None, 3, h, w)"'),
    ("Why: PyTorch ceil_mode drops a window that would start in the padding",
     'shapesmith layer "nn.AvgPool2d(4, stride=4, padding=2, ceil_mode=True)" --input "(1, 3, 9, 9)" --explain'),
    ("Keras: output_padding=None and output_padding=0 differ; every reachable size and how to pick it",
     "shapesmith layer \"Conv2DTranspose(1, 4, strides=2, padding='same')\" --input \"(None, 7, 7, 16)\" --explain"),
    ("Keras 1 Deconvolution2D ignores output_shape (a real user question)",
     f'shapesmith trace {ROOT / "examples" / "keras1_deconv.txt"} --input "(None, 1, h, w)"'),
    ("A pasted Keras model with a skip connection: which input sizes it accepts",
     f'shapesmith trace {ROOT / "examples" / "unet_block.py"}'),
    ("LSTM units are the output size, not a number of steps (a real user question)",
     f'shapesmith trace {ROOT / "examples" / "lstm.py"}'),
    ("The inverse: which kernel, stride, padding and output_padding give 28x28 -> 56x56",
     'shapesmith solve "nn.ConvTranspose2d(16, 1, ?, stride=?, padding=?, output_padding=?)" '
     '--input "(1, 16, 28, 28)" --output "(1, 1, 56, 56)" --limit 3'),
    ("Design two stride-2 convs from 28x28 to 7x7",
     f'shapesmith solve {ROOT / "examples" / "two_stride2.txt"} --input "(1, 1, 28, 28)" --output "(1, 32, 7, 7)" '
     '--limit 2'),
    ("A Conv1d applied by hand in numpy: the unfold (im2col) view",
     'shapesmith forward "nn.Conv1d(16, 16, 3, padding=2, dilation=2)" --input 1x16x8820 --explain'),
    ("A bad input gets one clear line",
     'shapesmith layer "nn.Conv2d(3, 8, 7)" --input "(1, 3, 5, 5)"'),
]

for title, command in TOUR:
    print(f"\n### {title}\n$ {command}", flush=True)
    main(shlex.split(command)[1:])
