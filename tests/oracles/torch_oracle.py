"""PyTorch as the oracle for shapesmith's ``torch`` dialect.

A config is a layer class name, its positional and keyword constructor arguments, an optional
``output_size`` passed to ``forward`` and an input shape. The same config renders to layer text
for shapesmith and builds the real module; the module runs on a CPU zeros tensor (not meta: meta
skips the ``output_padding`` check). Any exception from torch, at construction or in forward,
is a reject.
"""

from __future__ import annotations

import random
import warnings
from dataclasses import dataclass, field

import torch
from torch import nn

import shapesmith

torch.set_num_threads(1)


@dataclass
class Config:
    name: str                       # "Conv2d", "MaxPool1d", ...
    args: tuple = ()                # positional constructor arguments
    kwargs: dict = field(default_factory=dict)
    input_shape: tuple = ()
    output_size: object = None      # forward(x, output_size=...) when not None

    @property
    def text(self) -> str:
        parts = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        text = f"nn.{self.name}({', '.join(parts)})"
        if self.output_size is not None:
            text += f"(x, output_size={self.output_size!r})"
        return text

    def arg(self, name: str, default=None):
        """The value given for constructor parameter ``name`` (positionally or by keyword)."""
        order = {"Conv": CONV_ORDER, "ConvTranspose": CONVT_ORDER, "MaxPool": MAXPOOL_ORDER,
                 "AvgPool": AVGPOOL_ORDER}[self.name[:-2]]
        if name in self.kwargs:
            return self.kwargs[name]
        j = order.index(name) if name in order else len(self.args)
        return self.args[j] if j < len(self.args) else default

    def repro(self) -> str:
        return f"shapesmith.trace({self.text!r}, input_shape={self.input_shape!r}, framework='torch')"


# ------------------------------------------------------------------------ the two sides

def run_torch(cfg: Config, shape: tuple | None = None):
    """``("ok", output_shape, params)`` or ``("reject", message)``."""
    shape = cfg.input_shape if shape is None else shape
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            module = getattr(nn, cfg.name)(*cfg.args, **cfg.kwargs)
            params = sum(p.numel() for p in module.parameters())
            x = torch.zeros(shape)
            with torch.no_grad():
                y = module(x) if cfg.output_size is None else module(x, output_size=cfg.output_size)
        except Exception as exc:  # noqa: BLE001 - every torch failure is a reject
            return ("reject", f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
    if isinstance(y, tuple):  # MaxPool return_indices=True
        y = y[0]
    return ("ok", tuple(y.shape), params)


def run_shapesmith(cfg: Config, shape=None):
    """``("ok", output_shape, params, trace)``, ``("reject", message)`` or ``("crash", message)``."""
    shape = cfg.input_shape if shape is None else shape
    try:
        t = shapesmith.trace(cfg.text, input_shape=shape, framework="torch")
    except shapesmith.ShapesmithError as exc:
        return ("reject", str(exc)[:300])
    except Exception as exc:  # noqa: BLE001 - anything else is a shapesmith bug
        return ("crash", f"{type(exc).__name__}: {exc}"[:300])
    return ("ok", tuple(t.output_shape), t.params, t)


def torch_quirk(cfg: Config, want: tuple) -> str | None:
    """Why torch accepting ``cfg`` is a backend quirk rather than a rule shapesmith should follow."""
    if want[0] != "ok":
        return None
    if 0 in want[1]:
        # some conv_transpose kernels (oneDNN: grouped, 3-D) return an empty tensor where the
        # native ones raise "Output size is too small"; shapesmith's sizes are >= 1.
        return "0-size output"
    dilation = cfg.arg("dilation", 1)
    if cfg.name.startswith("ConvTranspose") and any(
            isinstance(d, int) and d < 1 for d in (dilation if isinstance(dilation, tuple) else (dilation,))):
        # the oneDNN grouped conv_transpose skips "dilation should be greater than zero"
        return "dilation 0 accepted by the oneDNN path"
    return None


def compare(cfg: Config) -> tuple[str, str]:
    """``("agree", "")``, ``("quirk", reason)`` or ``("disagree", description with a repro)``.

    ``quirk``: torch accepted but :func:`torch_quirk` says its answer is a backend accident and
    shapesmith rejected; that counts as agreement (reported separately).
    """
    want = run_torch(cfg)
    got = run_shapesmith(cfg)
    quirk = torch_quirk(cfg, want)
    if quirk and got[0] == "reject":
        return ("quirk", f"{quirk}: {cfg.text} on {cfg.input_shape}")
    if got[0] == "crash":
        problem = f"shapesmith crashed: {got[1]}"
    elif want[0] != got[0]:
        problem = (f"torch {'accepts -> ' + str(want[1]) if want[0] == 'ok' else 'rejects: ' + want[1]}; "
                   f"shapesmith {'accepts -> ' + str(got[1]) if got[0] == 'ok' else 'rejects: ' + got[1]}")
    elif want[0] == "ok" and (want[1], want[2]) != (got[1], got[2]):
        problem = f"torch {want[1]} params={want[2]}; shapesmith {got[1]} params={got[2]}"
    else:
        return ("agree", "")
    return ("disagree", f"{cfg.text} on {cfg.input_shape}: {problem}\n    repro: {cfg.repro()}")


def report(problems: list[str], total: int, family: str) -> str:
    head = f"{len(problems)} of {total} {family} configs disagree with torch; first ones:\n"
    return head + "\n".join(problems[:25])


# ------------------------------------------------------------------------ generators
# Sizes kept tiny: batch 1, <= 8 channels, spatial <= 20 / 12 / 7 for 1-D / 2-D / 3-D.

MAX_SIZE = {1: 20, 2: 12, 3: 7}


def _per_axis(rng: random.Random, rank: int, draw, tuple_p: float = 0.5):
    """An int, or a tuple of ``rank`` values (occasionally of the wrong length)."""
    r = rng.random()
    if r < 1 - tuple_p:
        return draw()
    if r < 0.98:
        return tuple(draw() for _ in range(rank))
    return tuple(draw() for _ in range(rng.choice([n for n in (1, 2, 3, 4) if n != rank])))


def _small(rng: random.Random, lo: int, hi: int, bad: float = 0.02, bad_values=(0, -1)) -> int:
    return rng.choice(bad_values) if rng.random() < bad else rng.randint(lo, hi)


def _input(rng: random.Random, rank: int, channels: int, *, lo: int = 1) -> tuple:
    if rng.random() < 0.03:  # channel mismatch
        channels = channels + rng.choice([-1, 1, 2]) if channels > 1 else 2
    sizes = tuple(rng.randint(lo, MAX_SIZE[rank]) for _ in range(rank))
    return (channels, *sizes) if rng.random() < 0.15 else (1, channels, *sizes)


def _split_args(rng: random.Random, order: tuple[str, ...], values: dict, required: int) -> tuple[tuple, dict]:
    """The first ``required`` parameters are positional; then a random further prefix; the rest keywords."""
    present = [p for p in order if p in values]
    n_pos = required
    while n_pos < len(order) and order[n_pos] in values and rng.random() < 0.3:
        n_pos += 1
    args = tuple(values[p] for p in order[:n_pos])
    rest = [p for p in present if p not in order[:n_pos]]
    rng.shuffle(rest)
    return args, {p: values[p] for p in rest}


CONV_ORDER = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups", "bias",
              "padding_mode")
CONVT_ORDER = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "output_padding", "groups",
               "bias", "dilation", "padding_mode")


def _channels(rng: random.Random) -> tuple[int, int, int]:
    groups = rng.choice([1, 1, 1, 2, 3, 4])
    cin = groups * rng.randint(1, 2)
    cout = groups * rng.randint(1, 2)
    if rng.random() < 0.04:  # not divisible by groups
        cin += 1
    if rng.random() < 0.04:
        cout += 1
    if rng.random() < 0.01:
        groups = rng.choice([0, -1])
    return cin, cout, groups


def gen_conv(rng: random.Random, rank: int) -> Config:
    cin, cout, groups = _channels(rng)
    v: dict = {"in_channels": cin, "out_channels": cout}
    v["kernel_size"] = _per_axis(rng, rank, lambda: _small(rng, 1, 5, 0.01))
    if rng.random() < 0.6:
        v["stride"] = _per_axis(rng, rank, lambda: _small(rng, 1, 3, 0.01))
    r = rng.random()
    if r < 0.15:
        v["padding"] = "same"
    elif r < 0.22:
        v["padding"] = "valid"
    elif r < 0.23:
        v["padding"] = rng.choice(["full", "SAME", "causal"])
    elif r < 0.75:
        v["padding"] = _per_axis(rng, rank, lambda: _small(rng, 0, 3, 0.02, (-1,)))
    if rng.random() < 0.5:
        v["dilation"] = _per_axis(rng, rank, lambda: _small(rng, 1, 3, 0.01))
    if groups != 1 or rng.random() < 0.3:
        v["groups"] = groups
    if rng.random() < 0.3:
        v["bias"] = rng.random() < 0.5
    if rng.random() < 0.4:
        v["padding_mode"] = rng.choice(["zeros", "reflect", "replicate", "circular", "reflect", "circular"]
                                       + (["symmetric"] if rng.random() < 0.05 else []))
    if "padding" in v and v["padding"] == "same" and rng.random() < 0.5:
        v.pop("stride", None)  # make the accepted 'same' case common
    args, kwargs = _split_args(rng, CONV_ORDER, v, 3)
    return Config(f"Conv{rank}d", args, kwargs, _input(rng, rank, cin))


def gen_conv_transpose(rng: random.Random, rank: int) -> Config:
    cin, cout, groups = _channels(rng)
    v: dict = {"in_channels": cin, "out_channels": cout}
    v["kernel_size"] = _per_axis(rng, rank, lambda: _small(rng, 1, 5, 0.01))
    if rng.random() < 0.7:
        v["stride"] = _per_axis(rng, rank, lambda: _small(rng, 1, 4, 0.01))
    r = rng.random()
    if r < 0.02:
        v["padding"] = rng.choice(["same", "valid"])
    elif r < 0.6:
        v["padding"] = _per_axis(rng, rank, lambda: _small(rng, 0, 3, 0.02, (-1,)))
    if rng.random() < 0.5:
        v["dilation"] = _per_axis(rng, rank, lambda: _small(rng, 1, 3, 0.01))
    if rng.random() < 0.5:  # mostly valid (op < stride or op < dilation), else anything
        bound = [max(_axis(v.get("stride", 1), j), _axis(v.get("dilation", 1), j)) for j in range(rank)]
        v["output_padding"] = _related(rng, rank, tuple(bound), lambda b: rng.randint(0, max(b - 1, 0)),
                                       lambda: _small(rng, 0, 3, 0.05, (-1,)), 0.75)
    if groups != 1 or rng.random() < 0.3:
        v["groups"] = groups
    if rng.random() < 0.3:
        v["bias"] = rng.random() < 0.5
    if rng.random() < 0.05:
        v["padding_mode"] = rng.choice(["zeros", "reflect"])
    args, kwargs = _split_args(rng, CONVT_ORDER, v, 3)
    shape = _input(rng, rank, cin)
    output_size = None
    if rng.random() < 0.35:
        output_size = _output_size(rng, v, rank, shape)
    return Config(f"ConvTranspose{rank}d", args, kwargs, shape, output_size)


def _output_size(rng: random.Random, v: dict, rank: int, shape: tuple):
    """Mostly near the valid range ``[min, min + s - 1]`` (so often in it, sometimes just outside)."""
    spatial = shape[-rank:]
    sizes = []
    for j in range(rank):
        k, s, d = _axis(v["kernel_size"], j), _axis(v.get("stride", 1), j), _axis(v.get("dilation", 1), j)
        p = _axis(v.get("padding", 0), j, 0)
        lo = (spatial[j] - 1) * s - 2 * p + d * (k - 1) + 1
        in_range = rng.random() < 0.85
        sizes.append(rng.randint(lo, lo + max(s, 1) - 1) if in_range else rng.choice([lo - 1, lo + max(s, 1)]))
    out = tuple(sizes)
    r = rng.random()
    if r < 0.15:  # with the leading non-spatial dims (batch, channels) or (channels,)
        lead = (shape[0], 3) if rng.random() < 0.5 else (3,)
        out = (*lead, *out)
    elif r < 0.2 and rank == 1:
        out = out[0]  # a bare int: torch needs a sequence
    elif r < 0.25:
        out = list(out)
    elif r < 0.28:
        out = out[:-1] if rank > 1 else (*out, 5)
    return out


MAXPOOL_ORDER = ("kernel_size", "stride", "padding", "dilation", "return_indices", "ceil_mode")
AVGPOOL_ORDER = ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override")


def _axis(x, j: int, default: int = 1) -> int:
    """Axis ``j`` of an int-or-tuple argument (for drawing related values; bad lengths give ``default``)."""
    if isinstance(x, (tuple, list)):
        return x[j] if j < len(x) and isinstance(x[j], int) else default
    return x if isinstance(x, int) else default


def _related(rng: random.Random, rank: int, base, draw_ok, draw_any, p_ok: float):
    """Per axis, mostly a value valid for ``base`` on that axis (``draw_ok(b)``), else ``draw_any()``."""
    def one(j):
        return draw_ok(_axis(base, j)) if rng.random() < p_ok else draw_any()
    if rng.random() < 0.5:
        return one(0)
    if rng.random() < 0.97:
        return tuple(one(j) for j in range(rank))
    return tuple(one(j) for j in range(rng.choice([n for n in (1, 2, 3, 4) if n != rank])))


def gen_pool(rng: random.Random, rank: int, kind: str) -> Config:
    v: dict = {"kernel_size": _per_axis(rng, rank, lambda: _small(rng, 1, 5, 0.01))}
    if rng.random() < 0.6:
        v["stride"] = _per_axis(rng, rank, lambda: _small(rng, 1, 4, 0.01)) if rng.random() < 0.95 else None
    if rng.random() < 0.7:  # mostly within the pad <= kernel/2 limit
        v["padding"] = _related(rng, rank, v["kernel_size"], lambda k: rng.randint(0, max(k, 0) // 2),
                                lambda: _small(rng, 0, 3, 0.1, (-1,)), 0.85)
    if rng.random() < 0.6:
        v["ceil_mode"] = rng.random() < 0.7
    if kind == "max":
        if rng.random() < 0.5:
            v["dilation"] = _per_axis(rng, rank, lambda: _small(rng, 1, 3, 0.01))
        if rng.random() < 0.15:
            v["return_indices"] = rng.random() < 0.5
        order = MAXPOOL_ORDER
    else:
        if rng.random() < 0.3:
            v["count_include_pad"] = rng.random() < 0.5
        if rank > 1 and rng.random() < 0.15:
            v["divisor_override"] = rng.choice([1, 2, 3, 7, 0, -1])
        order = AVGPOOL_ORDER
    args, kwargs = _split_args(rng, order, v, 1)
    name = f"{'Max' if kind == 'max' else 'Avg'}Pool{rank}d"
    return Config(name, args, kwargs, _input(rng, rank, rng.randint(1, 3)))


GENERATORS = {
    "conv": gen_conv,
    "conv_transpose": gen_conv_transpose,
    "maxpool": lambda rng, rank: gen_pool(rng, rank, "max"),
    "avgpool": lambda rng, rank: gen_pool(rng, rank, "avg"),
}
