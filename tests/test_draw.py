"""Pictures (shapesmith.render.svg), checked structurally against the frameworks themselves.

- window: the cells a picture marks as the chosen output position's window are exactly the input cells that
  position reads in the framework (an input of one-hot images, all-ones weights: output ``p`` of image ``n``
  is non-zero iff cell ``n`` is in its window), the padding taps and dilation gaps are counted, and the
  output grid is the shape engine's (and the framework's) output size;
- scatter: every output cell's overlap count is the framework's transposed conv of ones with ones weights,
  the chosen input cell lands where a one-hot input's output is non-zero, and each size the picture says the
  forward conv maps back does map back;
- unfold: each column's cells name the input cells torch.nn.functional.unfold puts there;
- flow: a box per layer with the shape engine's shapes.
"""

from __future__ import annotations

import json
import math
import os
import random
import xml.etree.ElementTree as ET

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import shapesmith
from shapesmith import ShapesmithError
from shapesmith.render.svg import Picture, draw, draw_trace

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


# ----------------------------------------------------------------------------- reading a picture
def elements(svg: str, *tokens: str) -> list[ET.Element]:
    """Every element whose class has all ``tokens``."""
    root = ET.fromstring(svg)
    return [e for e in root.iter() if set(tokens) <= set(e.get("class", "").split())]


def index_of(e: ET.Element) -> tuple[int, ...]:
    return tuple(int(v) for v in e.get("data-index").split(","))


def has(e: ET.Element, token: str) -> bool:
    return token in e.get("class", "").split()


def spatial_out(text: str, shape: str, channels_last: bool = False, rank: int = 2) -> tuple[int, ...]:
    out = shapesmith.trace(text, input_shape=shape).output_shape
    return tuple(out[-rank - 1:-1] if channels_last else out[-rank:])


def in_group(svg: str, group: str, *tokens: str) -> list[ET.Element]:
    """The elements with ``tokens`` inside the ``<g>`` of class ``group``."""
    root = ET.fromstring(svg)
    found = []
    for g in root.iter("{http://www.w3.org/2000/svg}g"):
        if group in g.get("class", "").split():
            found += [e for e in g.iter() if set(tokens) <= set(e.get("class", "").split())]
    return found


# ----------------------------------------------------------------------------- the frameworks' windows
def torch_module(text: str) -> torch.nn.Module:
    module = eval(text, {"nn": torch.nn}).eval()  # noqa: S307 (test oracle: our own texts)
    with torch.no_grad():
        for name, p in module.named_parameters():
            p.fill_(1.0 if name == "weight" else 0.0)
    return module


def reads_from_onehots(run, spatial: tuple[int, ...]) -> np.ndarray:
    """``run(x (n, 1, *spatial)) -> y (n, *out)`` on every one-hot image: ``y[n, p] != 0`` iff the output
    position ``p`` reads input cell ``n``."""
    n = math.prod(spatial)
    x = np.eye(n, dtype=np.float32).reshape(n, 1, *spatial)
    return np.asarray(run(x)) != 0


def torch_reads(text: str, spatial: tuple[int, ...]) -> np.ndarray:
    module = torch_module(text)
    with torch.no_grad():
        return reads_from_onehots(lambda x: module(torch.from_numpy(x))[:, 0].numpy(), spatial)


def window_of(reads: np.ndarray, spatial: tuple[int, ...], position: tuple[int, ...]) -> set[tuple[int, ...]]:
    cells = np.nonzero(reads[(slice(None), *position)])[0]
    return {tuple(int(v) for v in np.unravel_index(c, spatial)) for c in cells}


def check_window(text: str, shape: str, position: tuple[int, ...], reads: np.ndarray, spatial: tuple[int, ...],
                 kernel: tuple[int, ...], dilation: tuple[int, ...], channels_last: bool = False) -> str:
    picture = draw(text, shape, position=position)
    svg = picture.svg
    assert picture.kind == "window"
    taps = elements(svg, "cell", "input", "window")
    inside = {index_of(e) for e in taps if not has(e, "pad")}
    assert inside == window_of(reads, spatial, position), (text, shape, position)
    assert len(taps) == math.prod(kernel)  # the padding taps make up the rest
    span = math.prod(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    assert len(elements(svg, "cell", "input", "gap")) == span - math.prod(kernel)
    out = spatial_out(text, shape, channels_last, len(spatial))
    assert out == reads.shape[1:]  # the engine agrees with the framework
    cells = [index_of(e) for e in elements(svg, "cell", "output")]
    assert len(cells) == math.prod(out) and set(cells) == set(np.ndindex(*out))
    assert [index_of(e) for e in elements(svg, "cell", "output", "chosen")] == [position]
    return svg


def _conv_configs(seed: int, count: int, rank: int):
    rnd = random.Random(seed)
    for _ in range(count):
        k = tuple(rnd.randint(1, 4) for _ in range(rank))
        s = tuple(rnd.randint(1, 3) for _ in range(rank))
        d = tuple(rnd.randint(1, 3) for _ in range(rank))
        p = tuple(rnd.randint(0, 2) for _ in range(rank))
        spatial = tuple(rnd.randint(max(dd * (kk - 1) + 1 - 2 * pp, 1), 10) for kk, dd, pp in zip(k, d, p))
        yield k, s, d, p, spatial, rnd


@pytest.mark.parametrize("rank", [1, 2])
def test_conv_window_is_what_torch_reads(rank):
    for k, s, d, p, spatial, rnd in _conv_configs(rank, 14, rank):
        text = f"nn.Conv{rank}d(1, 2, {k}, stride={s}, padding={p}, dilation={d})"
        shape = str((1, 1, *spatial))
        reads = torch_reads(text, spatial)
        position = tuple(rnd.randrange(o) for o in reads.shape[1:])
        svg = check_window(text, shape, position, reads, spatial, k, d)
        pads = elements(svg, "cell", "input", "pad")
        assert bool(pads) == any(p), text
        assert not elements(svg, "asym")  # torch's integer padding is symmetric


def test_torch_same_padding_is_asymmetric_for_an_even_span():
    text, spatial = "nn.Conv2d(1, 1, (2, 4), padding='same', dilation=(3, 1))", (6, 7)
    reads = torch_reads(text, spatial)
    for position in [(0, 0), (5, 6), (2, 3)]:
        svg = check_window(text, str((1, 1, *spatial)), position, reads, spatial, (2, 4), (3, 1))
    begin = {index_of(e) for e in elements(svg, "cell", "input", "pad-begin")}
    end = {index_of(e) for e in elements(svg, "cell", "input", "pad-end")}
    assert elements(svg, "cell", "asym") and len(end) > len(begin)  # the odd padding cell goes at the end


def test_avg_pool_ceil_mode_window():
    for text, spatial in [("nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True)", (6, 8)),
                          ("nn.AvgPool1d(2, stride=3, ceil_mode=True)", (8,))]:
        reads = torch_reads(text, spatial)
        last = tuple(o - 1 for o in reads.shape[1:])
        kernel = (3, 3) if len(spatial) == 2 else (2,)
        check_window(text, str((1, 1, *spatial)), last, reads, spatial, kernel, (1,) * len(spatial))


def test_onnx_asymmetric_pads_window():
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    rnd = random.Random(7)
    ort.set_default_logger_severity(3)
    for _ in range(4):
        pads = [rnd.randint(0, 2) for _ in range(4)]
        kernel, strides, dilations = [rnd.randint(1, 3), rnd.randint(2, 3)], [rnd.randint(1, 2), 2], [2, 1]
        spatial = (rnd.randint(5, 8), rnd.randint(5, 8))
        node = helper.make_node("Conv", ["X", "W"], ["Y"], kernel_shape=kernel, strides=strides, pads=pads,
                                dilations=dilations)
        weight = numpy_helper.from_array(np.ones((1, 1, *kernel), np.float32), "W")
        graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("X", TensorProto.FLOAT, None)],
                                  [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)], [weight])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        reads = reads_from_onehots(lambda x: session.run(None, {"X": x})[0][:, 0], spatial)
        text = f"Conv(kernel_shape={kernel}, strides={strides}, pads={pads}, dilations={dilations})"
        position = tuple(rnd.randrange(o) for o in reads.shape[1:])
        svg = check_window(text, str((1, 1, *spatial)), position, reads, spatial, tuple(kernel), tuple(dilations))
        asym = pads[0] != pads[2] or pads[1] != pads[3]
        assert bool(elements(svg, "cell", "input", "asym")) == asym, pads


def test_keras_same_stride_two_window():
    import keras

    for kernel, spatial in [(3, (8, 7)), (4, (5, 6))]:
        layer = keras.layers.Conv2D(1, kernel, strides=2, padding="same", kernel_initializer="ones")
        reads = reads_from_onehots(
            lambda x: keras.ops.convert_to_numpy(layer(np.moveaxis(x, 1, -1)))[..., 0], spatial)
        text = f'Conv2D(1, {kernel}, strides=2, padding="same")'
        for position in [(0, 0), tuple(o - 1 for o in reads.shape[1:])]:
            svg = check_window(text, str((1, *spatial, 1)), position, reads, spatial, (kernel, kernel), (1, 1),
                               channels_last=True)
        assert elements(svg, "cell", "input", "asym")


def test_long_axis_is_drawn_around_the_window():
    text = "nn.Conv1d(1, 1, 3, stride=2, padding=1, dilation=2)"
    small = torch_reads(text, (64,))
    picture = draw(text, "(1, 1, 1000000000)", position=5)
    assert len(picture.svg) < 60_000
    taps = elements(picture.svg, "cell", "input", "window")
    assert {index_of(e) for e in taps if not has(e, "pad")} == window_of(small, (64,), (5,))
    out = spatial_out(text, "(1, 1, 1000000000)", rank=1)[0]
    drawn = len(in_group(picture.svg, "output-grid", "cell", "output"))
    hidden = sum(int(e.get("data-count")) for e in in_group(picture.svg, "output-grid", "cell", "elided"))
    assert drawn + hidden == out
    assert any("not drawn" in n for n in picture.notes)


def test_big_2d_window_against_torch_gradients():
    text, spatial, position = "nn.Conv2d(1, 1, 5, stride=3, padding=(2, 1), dilation=(1, 2))", (300, 400), (50, 60)
    module = torch_module(text)
    x = torch.zeros(1, 1, *spatial, requires_grad=True)
    module(x)[(0, 0, *position)].backward()
    reads = {tuple(int(v) for v in c) for c in torch.nonzero(x.grad[0, 0])}
    picture = draw(text, str((1, 1, *spatial)), position=position)
    taps = elements(picture.svg, "cell", "input", "window")
    assert {index_of(e) for e in taps if not has(e, "pad")} == reads and len(taps) == 25
    assert len(elements(picture.svg, "cell", "input")) < 40 * 40


# ----------------------------------------------------------------------------- transposed
def torch_transposed(text: str, spatial: tuple[int, ...], onehot: tuple[int, ...] | None = None) -> np.ndarray:
    module = torch_module(text)
    x = torch.ones(1, 1, *spatial) if onehot is None else torch.zeros(1, 1, *spatial)
    if onehot is not None:
        x[(0, 0, *onehot)] = 1.0
    with torch.no_grad():
        return module(x)[0, 0].numpy()


def check_scatter(svg: str, counts: np.ndarray, lands: np.ndarray) -> None:
    cells = {index_of(e): e for e in elements(svg, "cell", "output") if not has(e, "cropped")}
    assert set(cells) == set(np.ndindex(*counts.shape))
    for index, e in cells.items():
        assert int(e.get("data-count")) == round(float(counts[index])), index
    scattered = {index_of(e) for e in elements(svg, "cell", "output", "scatter") if not has(e, "cropped")}
    assert scattered == {tuple(int(v) for v in c) for c in np.argwhere(lands != 0)}


@pytest.mark.parametrize("rank", [1, 2])
def test_transposed_overlap_counts_are_torch(rank):
    rnd = random.Random(10 + rank)
    for _ in range(12):
        k = tuple(rnd.randint(1, 5) for _ in range(rank))
        s = tuple(rnd.randint(1, 3) for _ in range(rank))
        d = tuple(rnd.randint(1, 2) for _ in range(rank))
        p = tuple(rnd.randint(0, (dd * (kk - 1)) // 2) for kk, dd in zip(k, d))
        op = tuple(rnd.randint(0, max(ss, dd) - 1) for ss, dd in zip(s, d))
        spatial = tuple(rnd.randint(2, 6) for _ in range(rank))
        text = (f"nn.ConvTranspose{rank}d(1, 1, {k}, stride={s}, padding={p}, output_padding={op}, "
                f"dilation={d})")
        position = tuple(rnd.randrange(n) for n in spatial)
        picture = draw(text, str((1, 1, *spatial)), position=position)
        assert picture.kind == "scatter"
        counts = torch_transposed(text, spatial)
        check_scatter(picture.svg, counts, torch_transposed(text, spatial, position))
        assert counts.shape == spatial_out(text, str((1, 1, *spatial)), rank=rank)
        marked = {index_of(e) for e in elements(picture.svg, "cell", "output", "outpad")}
        assert marked == {j for j in np.ndindex(*counts.shape)
                          if any(jj >= n - o for jj, n, o in zip(j, counts.shape, op))}
        for e in elements(picture.svg, "alternative"):  # each size the forward conv maps back to the input
            axis = "LHW".index(e.get("data-axis")) - (1 if rank == 2 else 0)
            size = int(e.get("data-size"))
            forward = F.conv1d(torch.zeros(1, 1, size), torch.zeros(1, 1, k[axis]), stride=s[axis],
                               padding=p[axis], dilation=d[axis])
            assert forward.shape[-1] == spatial[axis], (text, size)


def test_keras_same_transposed_counts():
    import keras

    for kernel, spatial in [(3, (4, 5)), (4, (3, 4)), (5, (4, 4))]:
        layer = keras.layers.Conv2DTranspose(1, kernel, strides=2, padding="same", kernel_initializer="ones")
        counts = keras.ops.convert_to_numpy(layer(np.ones((1, *spatial, 1), np.float32)))[0, ..., 0]
        onehot = np.zeros((1, *spatial, 1), np.float32)
        onehot[0, 1, 2, 0] = 1
        lands = keras.ops.convert_to_numpy(layer(onehot))[0, ..., 0]
        picture = draw(f'Conv2DTranspose(1, {kernel}, strides=2, padding="same")', str((1, *spatial, 1)),
                       position=(1, 2))
        check_scatter(picture.svg, counts, lands)


def test_onnx_transposed_counts():
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    ort.set_default_logger_severity(3)
    for attrs in [{"auto_pad": "SAME_LOWER"}, {"auto_pad": "SAME_UPPER", "dilations": [1, 2]},
                  {"pads": [0, 2, 1, 0], "output_padding": [1, 0]}]:
        kernel, spatial = [3, 4], (3, 4)
        node = helper.make_node("ConvTranspose", ["X", "W"], ["Y"], kernel_shape=kernel, strides=[2, 3], **attrs)
        weight = numpy_helper.from_array(np.ones((1, 1, *kernel), np.float32), "W")
        graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("X", TensorProto.FLOAT, None)],
                                  [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)], [weight])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        onehot = np.zeros((1, 1, *spatial), np.float32)
        onehot[0, 0, 2, 1] = 1
        counts, lands = (session.run(None, {"X": x})[0][0, 0] for x in (np.ones_like(onehot), onehot))
        written = ", ".join(f"{k}={v!r}" for k, v in attrs.items()).replace("'", '"')
        picture = draw(f"ConvTranspose(kernel_shape={kernel}, strides=[2, 3], {written})", str((1, 1, *spatial)),
                       position=(2, 1))
        check_scatter(picture.svg, counts, lands)


# ----------------------------------------------------------------------------- unfold
@pytest.mark.parametrize("text, spatial, channels, position", [
    ("nn.Conv2d(3, 4, 3, stride=2, padding=1)", (5, 6), 3, (1, 2)),
    ("nn.Conv2d(4, 6, (2, 3), stride=(1, 2), padding=(1, 0), dilation=(2, 1), groups=2)", (6, 7), 4, (0, 1)),
    ("nn.Conv1d(2, 3, 4, dilation=2, padding=3)", (9,), 2, (4,)),
    ("nn.MaxPool2d(3, stride=2, padding=1)", (7, 7), 1, (3, 0)),
])
def test_unfold_columns_are_torch_unfold(text, spatial, channels, position):
    module = eval(text, {"nn": torch.nn})  # noqa: S307 (our own texts)
    groups = getattr(module, "groups", 1)
    per_group = channels // groups
    size = math.prod(spatial)
    x = torch.arange(1, channels * size + 1, dtype=torch.float64).reshape(1, channels, *spatial)
    x2 = x if len(spatial) == 2 else x.unsqueeze(2)
    pair = lambda v: (v, v) if isinstance(v, int) else tuple(v)  # noqa: E731
    lift = (lambda v: (1, pair(v)[0])) if len(spatial) == 1 else pair
    cols = F.unfold(x2[:, :per_group], lift(module.kernel_size), dilation=lift(module.dilation),
                    padding=(0, pair(module.padding)[0]) if len(spatial) == 1 else pair(module.padding),
                    stride=lift(module.stride))[0]
    picture = draw(text, str((1, channels, *spatial)), kind="unfold", position=position)
    assert picture.kind == "unfold"
    block = elements(picture.svg, "block", "x-col")[0]
    assert (int(block.get("data-rows")), int(block.get("data-cols"))) == tuple(cols.shape)
    out = spatial_out(text, str((1, channels, *spatial)), rank=len(spatial))
    assert math.prod(out) == cols.shape[1]
    column = int(np.ravel_multi_index(position, out))
    cells = [e for e in elements(picture.svg, "cell", "col") if int(e.get("data-col")) == column]
    assert len(cells) == cols.shape[0] and all(has(e, "chosen") for e in cells)
    for e in cells:
        want = float(cols[int(e.get("data-row")), column])
        if has(e, "pad"):
            assert want == 0
        else:
            c, *at = (int(v) for v in e.get("data-source").split(","))
            assert want == float(x[(0, c, *at)])


def test_big_unfold_is_capped_and_says_so():
    picture = draw("nn.Conv2d(64, 128, 3, padding=1)", "(1, 64, 56, 56)", kind="unfold", position=(10, 20))
    assert len(elements(picture.svg, "cell", "col")) <= 32 * 32
    assert any(n.startswith("drawn:") for n in picture.notes)
    block = elements(picture.svg, "block", "weight")[0]
    assert (block.get("data-rows"), block.get("data-cols")) == ("128", "576")


# ----------------------------------------------------------------------------- flow
def test_flow_boxes_are_the_trace():
    code = "nn.Conv2d(3, 16, 3, stride=2, padding=1)\nnn.ReLU()\nnn.MaxPool2d(2)\nnn.Flatten()"
    t = shapesmith.trace(code, input_shape="(None, 3, h, w)")
    picture = draw(code, "(None, 3, h, w)")
    assert picture.kind == "flow"
    boxes = elements(picture.svg, "box", "layer")
    assert [b.get("data-type") for b in boxes] == [r.layer.type for r in t.layers]
    assert [json.loads(b.get("data-shape")) for b in boxes] == [x["output_shape"] for x in t.to_dict()["layers"]]
    assert elements(picture.svg, "dim", "symbolic") and elements(picture.svg, "dim", "changed")
    assert draw_trace(t).svg == picture.svg


def test_long_stack_is_elided():
    code = "\n".join(["nn.ReLU()"] * 150)
    picture = draw(code, "(1, 4)")
    boxes = elements(picture.svg, "box", "layer")
    hidden = int(elements(picture.svg, "box", "elided")[0].get("data-count"))
    assert len(boxes) + hidden == 150


# ----------------------------------------------------------------------------- the picture object and errors
def test_picture_renders_and_saves(tmp_path):
    picture = draw("nn.ConvTranspose2d(1, 1, 3, stride=2, output_padding=1)", "(1, 1, 3, 4)")
    assert isinstance(picture, Picture) and picture._repr_svg_() == picture.svg
    assert ET.fromstring(picture.svg).get("width") == str(picture.width)
    picture.save(tmp_path / "p.svg")
    assert (tmp_path / "p.svg").read_text(encoding="utf-8") == picture.svg
    pytest.importorskip("cairosvg")
    picture.save(tmp_path / "p.png")
    assert (tmp_path / "p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_text_is_escaped():
    picture = draw('Conv2D(1, 3, name="<b>&\'x")', "(1, 5, 5, 1)")
    ET.fromstring(picture.svg)  # well-formed
    assert "<b>" not in picture.svg


@pytest.mark.parametrize("kwargs, message", [
    ({"layer_text": "nn.Conv2d(1, 1, 3)", "input_shape": "(1, 1, h, 5)"}, "concrete sizes"),
    ({"layer_text": "nn.Conv2d(1, 1, 3)", "input_shape": "(1, 1, 5, 5)", "kind": "scatter"}, "transposed"),
    ({"layer_text": "nn.ConvTranspose2d(1, 1, 3)", "input_shape": "(1, 1, 5, 5)", "kind": "window"}, "scatter"),
    ({"layer_text": "nn.Conv2d(1, 1, 3)", "input_shape": "(1, 1, 5, 5)", "position": (3, 0)}, "outside 0..2"),
    ({"layer_text": "nn.Conv2d(1, 1, 3)", "input_shape": "(1, 1, 5, 5)", "position": "1"}, "one per drawn axis"),
    ({"layer_text": "nn.Conv3d(1, 1, 3)", "input_shape": "(1, 1, 5, 5, 5)", "axes": (0, 3)}, "axes"),
    ({"layer_text": "nn.Conv2d(1, 1, 3)", "input_shape": "(1, 1, 5, 5)", "kind": "picture"}, "unknown picture"),
    ({"layer_text": "nn.Linear(3, 4)", "input_shape": "(1, 3)", "kind": "unfold"}, "no sliding window"),
])
def test_errors_are_shapesmith_errors(kwargs, message):
    with pytest.raises(ShapesmithError, match=message):
        draw(**kwargs)


def test_3d_conv_draws_two_chosen_axes():
    text, spatial = "nn.Conv3d(1, 1, (2, 3, 2), stride=(1, 2, 1), padding=(0, 1, 1))", (3, 6, 5)
    reads = torch_reads(text, spatial)
    picture = draw(text, str((1, 1, *spatial)), axes=(0, 1), position=(1, 2))
    taps = elements(picture.svg, "cell", "input", "window")
    inside = {index_of(e) for e in taps if not has(e, "pad")}
    window = window_of(reads, spatial, (1, 2, 0))
    assert inside == {(a, b) for a, b, _ in window}  # the drawn axes, at the first output position of the third


def test_huge_kernels_and_strides_draw_quickly():
    """Cells are classified arithmetically, so a kernel of 10^5 taps or a stride of 10^6 costs nothing."""
    text, size, position = "nn.ConvTranspose1d(1, 1, 100000, stride=7, dilation=3, padding=5)", 4, 2
    picture = draw(text, f"(1, 1, {size})", position=position)
    counts = torch_transposed(text, (size,))
    lands = torch_transposed(text, (size,), (position,))
    drawn = {index_of(e): e for e in elements(picture.svg, "cell", "output")
             if not has(e, "cropped") and not has(e, "elided")}
    assert all(int(e.get("data-count")) == round(float(counts[j])) for j, e in drawn.items())
    assert {j for j, e in drawn.items() if has(e, "scatter")} == {j for j in drawn if lands[j] != 0}
    assert "too many" not in picture.svg
    picture = draw("nn.ConvTranspose1d(1, 1, 3, stride=1000000)", "(1, 1, 3)")
    assert "too many to list" in picture.svg
    text = "nn.Conv1d(1, 1, 3000, dilation=3, padding=7)"
    module = torch_module(text)
    x = torch.zeros(1, 1, 20000, requires_grad=True)
    module(x)[0, 0, 5].backward()
    picture = draw(text, "(1, 1, 20000)", position=5)
    drawn_in = {index_of(e)[0]: e for e in elements(picture.svg, "cell", "input") if not has(e, "pad")}
    assert {i for i, e in drawn_in.items() if has(e, "window")} == {
        i for i in drawn_in if x.grad[0, 0, i] != 0}
