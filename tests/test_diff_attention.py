"""Attention layers against PyTorch and Keras: output shapes, score shapes, parameter counts."""

from __future__ import annotations

import os
import random

import pytest

import shapesmith
from shapesmith import ShapesmithError

os.environ.setdefault("KERAS_BACKEND", "torch")


def torch_mha_configs(n: int):
    rng = random.Random("torch-mha")
    for _ in range(n):
        heads = rng.randint(1, 4)
        embed = heads * rng.randint(1, 4) + (rng.random() < 0.1)
        cfg = dict(embed=embed, heads=heads, kdim=rng.choice([None, rng.randint(1, 9)]),
                   vdim=rng.choice([None, rng.randint(1, 9)]), bias=rng.random() < 0.7,
                   bias_kv=rng.random() < 0.2, zero_attn=rng.random() < 0.2, batch_first=rng.random() < 0.5,
                   need=rng.random() < 0.8, average=rng.random() < 0.6, batch=rng.randint(1, 3),
                   tq=rng.randint(1, 5), tk=rng.randint(1, 5), unbatched=rng.random() < 0.15,
                   wrong=rng.random() < 0.1)
        yield cfg


def torch_mha(cfg):
    import torch
    from torch import nn
    text = (f"nn.MultiheadAttention({cfg['embed']}, {cfg['heads']}, bias={cfg['bias']}, add_bias_kv={cfg['bias_kv']}, "
            f"add_zero_attn={cfg['zero_attn']}, kdim={cfg['kdim']}, vdim={cfg['vdim']}, batch_first={cfg['batch_first']})")
    kdim, vdim = cfg["kdim"] or cfg["embed"], cfg["vdim"] or cfg["embed"]
    b, tq, tk = cfg["batch"], cfg["tq"], cfg["tk"]

    def shape(t, d):
        if cfg["unbatched"]:
            return (t, d)
        return (b, t, d) if cfg["batch_first"] else (t, b, d)
    shapes = [shape(tq, cfg["embed"] + cfg["wrong"]), shape(tk, kdim), shape(tk, vdim)]
    program = (f"attn = {text}\nout, w = attn(q, k, v, need_weights={cfg['need']}, "
               f"average_attn_weights={cfg['average']})")
    try:
        module = eval(text, {"nn": nn})  # test oracle: our own constructor text, built by torch
        out, w = module(*(torch.zeros(s) for s in shapes), need_weights=cfg["need"],
                        average_attn_weights=cfg["average"])
        want = ("ok", [tuple(out.shape)] + ([tuple(w.shape)] if w is not None else []),
                sum(p.numel() for p in module.parameters()))
    except (RuntimeError, ValueError, AssertionError) as exc:
        want = ("reject", str(exc)[:80], None)
    return program, shapes, want


@pytest.mark.parametrize("chunk", range(2))
def test_torch_multihead_attention(chunk):
    problems = []
    configs = list(torch_mha_configs(600))[chunk::2]
    for cfg in configs:
        program, shapes, want = torch_mha(cfg)
        got = trace_three(program, shapes)
        if (got[0], got[1], got[2]) != want and not (got[0] == want[0] == "reject"):
            problems.append(f"{program} on {shapes}: shapesmith {got}, torch {want}")
    assert not problems, "\n".join(problems[:10])


def trace_three(program, shapes):
    """The program with q, k, v as three inputs of the given shapes."""
    code = "q = Input(batch_shape=%r)\nk = Input(batch_shape=%r)\nv = Input(batch_shape=%r)\n%s" % (*shapes, program)
    try:
        t = shapesmith.trace(code, framework="torch")
    except ShapesmithError as exc:
        return ("reject", str(exc)[:80], None)
    r = t.layers[0]
    outs = r.output_shape if isinstance(r.output_shape, list) else [r.output_shape]
    return ("ok", [tuple(s) for s in outs], r.params)


def test_torch_transformer_encoder_layer():
    import torch
    from torch import nn
    rng = random.Random("encoder")
    for _ in range(60):
        nhead = rng.randint(1, 3)
        d = nhead * rng.randint(1, 4)
        ff, bias, bf = rng.randint(1, 12), rng.random() < 0.7, rng.random() < 0.5
        text = f"nn.TransformerEncoderLayer({d}, {nhead}, dim_feedforward={ff}, bias={bias}, batch_first={bf})"
        module = eval(text, {"nn": nn})  # test oracle: our own constructor text, built by torch
        shape = (rng.randint(1, 3), rng.randint(1, 5), d)
        t = shapesmith.trace(text, input_shape=shape)
        assert t.output_shape == tuple(module(torch.zeros(shape)).shape), text
        assert t.params == sum(p.numel() for p in module.parameters()), text


def test_keras_multi_head_attention():
    import keras
    rng = random.Random("keras-mha")
    for _ in range(80):
        heads, key_dim = rng.randint(1, 3), rng.randint(1, 4)
        value_dim = rng.choice([None, rng.randint(1, 4)])
        out_dim = rng.choice([None, rng.randint(1, 5)])
        bias, scores = rng.random() < 0.7, rng.random() < 0.5
        tq, tk, dq, dv, dk = (rng.randint(1, 5) for _ in range(5))
        use_key = rng.random() < 0.4
        text = (f"layers.MultiHeadAttention({heads}, {key_dim}, value_dim={value_dim}, output_shape={out_dim}, "
                f"use_bias={bias})")
        call = f"(q, v{', k' if use_key else ''}, return_attention_scores={scores})"
        layer = eval(text, {"layers": keras.layers})  # test oracle: our own constructor text, built by Keras
        tensors = [keras.ops.zeros((2, tq, dq)), keras.ops.zeros((2, tk, dv))] + (
            [keras.ops.zeros((2, tk, dk))] if use_key else [])
        result = layer(*tensors, return_attention_scores=scores)
        want = [tuple(x.shape) for x in (result if scores else [result])]
        code = (f"q = keras.Input(shape=({tq}, {dq}))\nv = keras.Input(shape=({tk}, {dv}))\n"
                f"k = keras.Input(shape=({tk}, {dk}))\nout = {text}{call}")
        t = shapesmith.trace(code)
        r = t.layers[0]
        got = r.output_shape if isinstance(r.output_shape, list) else [r.output_shape]
        assert [tuple(2 if d is None else d for d in s) for s in got] == want, code
        assert r.params == layer.count_params(), code
