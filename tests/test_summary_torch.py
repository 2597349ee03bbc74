"""``shapesmith.summary`` on PyTorch models built in test code, checked against torch itself: every
leaf module's output shape (forward hooks), the model's output, parameter counts (total, trainable,
frozen), multiply-adds (torch's FlopCounterMode: 2 flops per multiply-add), receptive fields (the
extent of an input gradient), and every valid-input box (the model run on the meta device at sizes
inside and just outside each box)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from shapesmith import summarize as S
from shapesmith import ShapesmithError  # noqa: E402
from shapesmith.dims import as_shape  # noqa: E402
from shapesmith.render.summary import render_summary  # noqa: E402
from tests.models import torch_models as tm  # noqa: E402

MODELS = [
    (tm.resnet18, (2, 3, 64, 48), torch.float32),
    (tm.resnet50, (1, 3, 96, 96), torch.float32),
    (tm.VGG, (1, 3, 224, 224), torch.float32),
    (tm.UNet, (1, 3, 40, 48), torch.float32),
    (tm.TransformerClassifier, (2, 9), torch.long),
    (tm.EncoderOnly, (2, 7, 16), torch.float32),
    (tm.LSTMTagger, (3, 11), torch.long),
    (tm.FunctionalNet, (1, 3, 8, 8), torch.float32),
]


def _leaf_shapes(model: nn.Module, x) -> dict[str, tuple]:
    """Each module's output shape(s), by qualified name, from torch's own forward (calls in order)."""
    seen: dict[str, list] = {}
    handles = []
    for name, module in model.named_modules():
        if name:
            handles.append(module.register_forward_hook(
                lambda mod, args, out, name=name: seen.setdefault(name, []).append(_shapes(out))))
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()
    return seen


def _shapes(out):
    if isinstance(out, torch.Tensor):
        return tuple(out.shape)
    if isinstance(out, (tuple, list)):
        return tuple(_shapes(o) for o in out if o is not None)
    return None


def _row_shape(row):
    out = row.output_shape
    return tuple(tuple(o) for o in out) if isinstance(out, list) else tuple(out)


def _flatten_shapes(value):
    if isinstance(value, tuple) and value and isinstance(value[0], tuple):
        return tuple(s for v in value for s in _flatten_shapes(v))
    return (value,)


@pytest.mark.parametrize("ctor, shape, dtype", MODELS, ids=[m[0].__name__ for m in MODELS])
def test_shapes_and_params_equal_torch(ctor, shape, dtype):
    model = ctor().eval()
    x = torch.zeros(shape, dtype=dtype)
    s = S.summary(model, input_shape=shape)
    with torch.no_grad():
        y = model(x)
    assert s.output_shape == tuple(y.shape)
    assert s.params == sum(p.numel() for p in model.parameters())
    assert s.trainable == s.params and s.non_trainable == 0
    assert not any(r.gap for r in s.rows) and s.warnings == ()
    calls = _leaf_shapes(model, x)
    modules = dict(model.named_modules())
    count: dict[str, int] = {}
    for row in s.rows:
        if row.name in calls and row.name in modules:
            k = count.get(row.name, 0)
            count[row.name] = k + 1
            assert _flatten_shapes(calls[row.name][k]) == _flatten_shapes(_row_shape(row)), row.name
    assert count, "no module rows compared"
    json.dumps(s.to_dict())


@pytest.mark.parametrize("ctor, shape", [(tm.resnet18, (1, 3, 64, 64)), (tm.VGG, (2, 3, 224, 224)),
                                         (tm.UNet, (1, 3, 32, 32))], ids=["resnet18", "vgg", "unet"])
def test_multiply_adds_equal_torch_flop_counter(ctor, shape):
    model = ctor().to("meta").eval()
    with FlopCounterMode(display=False) as counter:
        model(torch.zeros(shape, device="meta"))
    assert S.summary(model, input_shape=shape).macs * 2 == counter.get_total_flops()


def test_receptive_field_equals_input_gradient_extent():
    model = nn.Sequential(nn.Conv2d(1, 1, 3), nn.AvgPool2d(2), nn.Conv2d(1, 1, 3, dilation=2), nn.AvgPool2d(3, 2),
                          nn.Conv2d(1, 1, 5, stride=2, padding=2))
    for m in model:
        if isinstance(m, nn.Conv2d):
            nn.init.constant_(m.weight, 1.0)
            nn.init.zeros_(m.bias)
    s = S.summary(model, input_shape=(1, 1, 96, 96))
    x = torch.ones(1, 1, 96, 96, requires_grad=True)
    prefix = x
    for j, layer in enumerate(model):
        prefix = layer(prefix)
        row = next(r for r in s.rows if r.name == str(j))
        grad, = torch.autograd.grad(prefix[0, 0, prefix.shape[2] // 2, prefix.shape[3] // 2], x, retain_graph=True)
        rows, cols = torch.nonzero(grad[0, 0], as_tuple=True)
        assert row.receptive_field == (int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)), j


def _runs(model: nn.Module, shape: tuple, dtype=torch.float32) -> bool:
    try:
        with torch.no_grad():
            model(torch.zeros(shape, dtype=dtype, device="meta"))
        return True
    except (RuntimeError, ValueError, IndexError):
        return False


def _probe_points(boxes, symbols) -> list[dict[str, int]]:
    """Points inside each box and just outside it: each dim at min-1, min, min+step, max, max+1 (and one
    off the step), the other dims inside the box."""
    points = []
    for box in boxes:
        inside = {s: box.dims[s].min for s in symbols}
        for s in symbols:
            r = box.dims[s]
            top = r.max if r.max is not None else r.min + 3 * r.step
            for v in {r.min - 1, r.min, r.min + r.step, r.min + 1, top, top + 1, top - 1}:
                if v >= 1:
                    points.append({**inside, s: v})
    return points


def check_valid_inputs(model: nn.Module, shape: str, dtype=torch.float32, extra: list | None = None) -> S.Summary:
    """Every answer checked by torch: a probe point runs iff it is in some box."""
    model = model.to("meta").eval()
    s = S.summary(model, input_shape=shape, valid_inputs=True)
    assert s.valid_inputs is not None, s.notes
    symbols = list(s.valid_inputs[0].dims) if s.valid_inputs else []
    template = as_shape(shape)
    for point in _probe_points(s.valid_inputs, symbols) + (extra or []):
        concrete = tuple(point.get(str(d), d) if not isinstance(d, int) else d for d in template)
        expected = any(point in box for box in s.valid_inputs)
        assert _runs(model, concrete, dtype) == expected, (concrete, expected, [b.text() for b in s.valid_inputs])
    return s


def test_valid_inputs_vgg_flatten_pins_the_size():
    s = check_valid_inputs(tm.VGG(), "(1, 3, h, w)", extra=[{"h": 224, "w": 256}, {"h": 1600, "w": 32}])
    texts = [b.text() for b in s.valid_inputs]
    assert "h, w in 224..255" in texts
    assert any("classifier.0 -> classifier.1 needs 64*7*7 features" in r for b in s.valid_inputs for r in b.reason)


def test_valid_inputs_square_symbol():
    s = check_valid_inputs(tm.VGG(), "(1, 3, s, s)")
    assert [b.text() for b in s.valid_inputs] == ["s in 224..255"]


def test_valid_inputs_unet_skip_concats():
    s = check_valid_inputs(tm.UNet(depth=3), "(1, 3, h, w)")
    (box,) = s.valid_inputs
    assert box.text() == "h, w in 8.., multiple of 8"
    assert any(r.startswith("h % 8 == 0 (the skip connection at cat_2") for r in box.reason)


def test_valid_inputs_resnet_and_functional_ops():
    check_valid_inputs(tm.resnet18(), "(1, 3, h, w)")
    s = check_valid_inputs(tm.FunctionalNet(), "(1, 3, h, w)", extra=[{"h": 7, "w": 8}])
    assert s.valid_inputs[0].text() == "h, w in 2.., multiple of 2"


def test_valid_inputs_sequence_models():
    check_valid_inputs(tm.LSTMTagger(), "(2, L)", torch.long)
    check_valid_inputs(tm.EncoderOnly(), "(2, L, 16)")


def test_default_input_from_the_first_layer():
    s = S.summary(tm.UNet())
    assert [str(d) for d in s.input_shape] == ["1", "3", "h", "w"]
    assert S.summary(tm.LSTMTagger()).input_shape[1].symbols() == {"L"}


def test_repeated_summary_binds_new_shapes():
    model = tm.resnet18()
    first = S.summary(model, input_shape=(1, 3, 224, 224))
    again = S.summary(first.graph, input_shape=(4, 3, 160, 128))
    with torch.no_grad():
        assert again.output_shape == tuple(model.to("meta")(torch.zeros(4, 3, 160, 128, device="meta")).shape)
    assert again.params == first.params


def test_frozen_parameters_and_unused_parameters():
    model = tm.TransformerClassifier()
    for p in model.embed.parameters():
        p.requires_grad_(False)
    s = S.summary(model, input_shape=(1, 5))
    frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    assert (s.params, s.non_trainable) == (sum(p.numel() for p in model.parameters()), frozen)
    assert any("pos" in n for n in s.notes)  # registered, not used by forward: counted, and said


def test_failing_input_names_the_layer_and_fixes():
    model = tm.VGG()
    with pytest.raises(S.InputRejected) as caught:
        S.summary(model, input_shape=(1, 3, 100, 100))
    err = caught.value
    assert err.layer == "classifier.1" and "(1, 576)" in str(err) and "3136" in str(err)
    assert any("nearest valid input (1, 3, 224, 224)" in f for f in err.fixes)
    assert any("global pooling" in f for f in err.fixes)
    assert _runs(model.to("meta"), (1, 3, 224, 224)) and not _runs(model, (1, 3, 100, 100))
    assert [r.name for r in err.summary.rows][-1] == "classifier.0"
    with pytest.raises(S.InputRejected) as caught:
        S.summary(tm.UNet(), input_shape=(1, 3, 60, 60))
    assert caught.value.layer == "cat" and "(1, 32, 14, 14), (1, 32, 15, 15)" in str(caught.value)
    assert "nearest valid input (1, 3, 56, 56)" in str(caught.value)
    with pytest.raises(S.InputRejected) as caught:
        S.summary(nn.Sequential(nn.Conv2d(3, 4, 5), nn.Conv2d(4, 4, 5)), input_shape=(1, 3, 6, 6))
    assert "padding" in str(caught.value) and caught.value.layer == "1"


class _Roll(nn.Module):
    def forward(self, x):
        return torch.roll(x, 1, dims=2)


class _Branchy(nn.Module):
    """Control flow on tensor values: torch.fx cannot trace it."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 3, padding=1)

    def forward(self, x):
        return self.conv(x) if x.sum() > 0 else x


def test_gaps_are_named_not_skipped():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), _Roll(), nn.PixelShuffle(2), nn.Conv2d(1, 2, 1))
    s = S.summary(model, input_shape=(1, 3, 16, 16))
    gaps = {r.name: r.gap for r in s.rows if r.gap}
    assert "torch.roll" in gaps["1.roll"] and "PixelShuffle" in gaps["2"]
    assert s.output_shape is None and s.params == sum(p.numel() for p in model.parameters())
    assert any("gaps" in w for w in s.warnings)
    text = render_summary(s)
    assert "Gaps" in text and "torch.roll" in text


def test_untraceable_module_becomes_a_named_gap():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), _Branchy(), nn.ReLU())
    s = S.summary(model, input_shape=(1, 3, 16, 16))
    (gap,) = [r for r in s.rows if r.gap]
    assert gap.name == "1" and "torch.fx cannot trace _Branchy.forward" in gap.gap
    assert s.params == sum(p.numel() for p in model.parameters())


def test_factory_paths():
    s = S.run_summary("tests.models.torch_models:resnet18", input_shape="(1, 3, 64, 64)", valid_inputs=False,
                      depth=1)
    assert s.output_shape == (1, 1000) and s.depth == 1
    for bad, words in [("tests.models.no_such_module:build", "cannot import"),
                       ("tests.models.torch_models:factory_raises", "raised RuntimeError"),
                       ("tests.models.torch_models:missing", "has no attribute"),
                       ("not a model", "not a file")]:
        with pytest.raises(ShapesmithError, match=words):
            S.run_summary(bad, input_shape=None, valid_inputs=False, depth=None)


def test_render_nests_and_folds():
    s = S.summary(tm.resnet18(), input_shape=(1, 3, 64, 64))
    full = render_summary(s)
    assert "layer1 (Sequential)" in full and "└─0 (BasicBlock)" in full and "│   └─conv1 (Conv2d)" in full
    folded = render_summary(s, depth=1)
    assert "layer1 (Sequential)" in folded and "BasicBlock" not in folded
    assert len(folded.splitlines()) < len(render_summary(s, depth=2).splitlines()) < len(full.splitlines())
    assert "Total params: 11,689,512" in full and "Total mult-adds:" in full


def test_import_loads_no_framework():
    code = ("import sys, shapesmith.summarize, shapesmith.models, shapesmith.render.summary; "
            "print([m for m in ('torch', 'keras', 'onnx', 'tensorflow') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
