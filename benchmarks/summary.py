"""Model summary benchmarks, in one run, on one ResNet-50-style model (the tests' builder) at (1, 3, 224, 224)
and (16, 3, 512, 512):

* shapesmith's summary of a freshly built model, graph capture (torch.fx) included;
* a repeated summary of a captured model at another input size (capture once, then bind shapes);
* torchinfo.summary (it runs the model on real tensors) and a meta-device forward of a model already
  on the meta device, the peers;
* symbolic valid inputs of keras.applications.InceptionResNetV2 once the model is built.

Targets (issue 8): fresh summary >= 2x faster than the meta forward and >= 100x faster than torchinfo at
the large input; repeated summary >= 10x faster than the meta forward; InceptionResNetV2 valid inputs
under 1 s.

Run: .venv/bin/python benchmarks/summary.py   (KERAS_BACKEND=torch for the Keras part)
"""

from __future__ import annotations

import os
import sys
import timeit
import warnings
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests' model builders

import torch  # noqa: E402

from shapesmith import summarize as S
from shapesmith.models import capture  # noqa: E402
from tests.models.torch_models import resnet50  # noqa: E402

SMALL, LARGE = (1, 3, 224, 224), (16, 3, 512, 512)


def best(fn, repeat: int = 5) -> float:
    return min(timeit.repeat(fn, number=1, repeat=repeat))


def fresh_summaries(shape: tuple, repeat: int = 5) -> float:
    """Each timing on a model built just before (untimed): capture, evaluation and rows."""
    models = [resnet50().eval() for _ in range(repeat)]
    times = []
    for model in models:
        times.append(min(timeit.repeat(lambda m=model: S.summary(m, input_shape=shape), number=1, repeat=1)))
    return min(times)


def meta_forward(shape: tuple) -> float:
    model = resnet50().to("meta").eval()
    x = torch.zeros(shape, device="meta")
    with torch.no_grad():
        model(x)
        return best(lambda: model(x))


def torchinfo_summary(shape: tuple, repeat: int) -> float | None:
    try:
        import torchinfo
    except ImportError:
        return None
    model = resnet50().eval()
    return best(lambda: torchinfo.summary(model, input_size=shape, verbose=0), repeat=repeat)


def inception_resnet_v2() -> tuple[float, float, int] | None:
    try:
        import keras
    except ImportError:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = keras.applications.InceptionResNetV2(weights=None, include_top=False, input_shape=(None, None, 3))
    first = timeit.default_timer()
    result = S.summary(model, valid_inputs=True)
    with_capture = timeit.default_timer() - first
    graph = capture(model)
    alone = best(lambda: S.summary(graph, valid_inputs=True), repeat=3)
    answer = " | ".join(b.text() for b in result.valid_inputs)
    print(f"    answer: {answer}; because {result.valid_inputs[0].reason[0]}")
    return with_capture, alone, len(graph.nodes)


def line(label: str, seconds: float, extra: str = "") -> None:
    print(f"{label:<58} {seconds * 1e3:10.2f} ms {extra}")


def main() -> None:
    torch.set_num_threads(max(1, torch.get_num_threads()))
    cold = timeit.default_timer()
    S.summary(resnet50().eval(), input_shape=SMALL)
    line("shapesmith summary, first call in the process (cold caches)", timeit.default_timer() - cold)
    graph = capture(resnet50().eval())
    results = {}
    for shape, other in ((SMALL, (4, 3, 320, 256)), (LARGE, (8, 3, 448, 384))):
        fresh = fresh_summaries(shape)
        bound = best(lambda: S.summary(graph, input_shape=shape), repeat=9)
        bound_other = best(lambda: S.summary(graph, input_shape=other), repeat=9)
        meta = meta_forward(shape)
        results[shape] = (fresh, bound, meta)
        print(f"ResNet-50 at {shape}")
        line("  shapesmith summary, fresh model (capture included)", fresh, f"  {meta / fresh:6.1f}x vs meta (>= 2x)")
        line("  shapesmith summary, captured graph, new input size", bound, f"  {meta / bound:6.1f}x vs meta (>= 10x)")
        line(f"  shapesmith summary, captured graph, at {other}", bound_other)
        line("  meta-device forward, model already on meta", meta)
    model = resnet50().eval()
    line("shapesmith capture alone (torch.fx + mapping), same model again", best(lambda: capture(model)))
    for shape, repeat in ((SMALL, 3), (LARGE, 1)):
        info = torchinfo_summary(shape, repeat)
        if info is None:
            print("torchinfo not installed: skipped")
            break
        fresh = results[shape][0]
        target = "  (>= 100x)" if shape == LARGE else ""
        line(f"torchinfo.summary at {shape}", info, f"  shapesmith {info / fresh:8.1f}x faster{target}")
    irv2 = inception_resnet_v2()
    if irv2 is None:
        print("keras not installed: InceptionResNetV2 skipped")
    else:
        with_capture, alone, nodes = irv2
        line(f"InceptionResNetV2 valid inputs ({nodes} layers), capture included", with_capture, "  (target < 1000 ms)")
        line("InceptionResNetV2 valid inputs, graph captured", alone)


if __name__ == "__main__":
    main()
