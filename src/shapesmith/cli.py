"""The command line: parse, call one function, render. Errors are one line on stderr, exit code 2."""

from __future__ import annotations

import json
import sys

import click

from .errors import ShapesmithError

FRAMEWORKS = ("torch", "keras", "keras2", "keras1", "tf", "onnx")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="shapesmith")
def cli() -> None:
    """Exact layer shapes for PyTorch, Keras, TensorFlow and ONNX, explained."""


def _shapes(given: tuple[str, ...]) -> str | list[str] | None:
    """``--input`` once: that shape; repeated: one per input."""
    return None if not given else given[0] if len(given) == 1 else list(given)


def _emit(result, as_json: bool, render) -> None:
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
    else:
        click.echo(render(), nl=False)


@cli.command()
@click.argument("layer_text", metavar="LAYER")
@click.option("--input", "-i", "input_shape", metavar="SHAPE", multiple=True,
              help="Input shape, batch dim included: '(None, 1, h, w)', 1x16x8820. Repeat for several inputs.")
@click.option("--framework", "-f", type=click.Choice(FRAMEWORKS), help="The dialect, when the layer name is ambiguous.")
@click.option("--explain", "-e", is_flag=True, help="Show the derivation of every axis.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def layer(layer_text: str, input_shape: tuple[str, ...], framework: str | None, explain: bool, as_json: bool) -> None:
    """The output shape of one LAYER, written as in its framework: nn.Conv2d(3, 8, 3, stride=2)."""
    from .render.text import render_layer
    from .trace import trace

    t = trace(layer_text, input_shape=_shapes(input_shape), framework=framework)
    if len(t.layers) != 1:
        raise ShapesmithError(f"`shapesmith layer` takes one layer, got {len(t.layers)}",
                              fix="use `shapesmith trace` for a stack")
    _emit(t, as_json, lambda: render_layer(t, explain))


@cli.command(name="trace")
@click.argument("file", type=click.File("r"), default="-")
@click.option("--input", "-i", "input_shape", metavar="SHAPE", multiple=True,
              help="Input shape, batch dim included. Repeat for several inputs.")
@click.option("--framework", "-f", type=click.Choice(FRAMEWORKS))
@click.option("--explain", "-e", is_flag=True, help="Show the derivation of every axis.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def trace_cmd(file, input_shape: tuple[str, ...], framework: str | None, explain: bool, as_json: bool) -> None:
    """Shapes through a stack in FILE (or stdin): one layer per line, Sequential([...]),
    nn.Sequential(...), model.add(...), or Keras functional code."""
    from .render.text import render_trace
    from .trace import trace

    t = trace(file.read(), input_shape=_shapes(input_shape), framework=framework)
    _emit(t, as_json, lambda: render_trace(t, explain))


@cli.command()
@click.argument("layer_text", metavar="LAYER")
@click.option("--input", "-i", "input_shape", metavar="SHAPE", required=True, help="Input shape, batch dim included.")
@click.option("--output", "-o", "output_shape", metavar="SHAPE",
              help="Target shape; without it, a forward conv lists the input sizes sharing its output.")
@click.option("--through", "-t", multiple=True, metavar="SHAPE",
              help="A chain: the shape after each layer but the last, in order ('any' leaves one free).")
@click.option("--mirror", "-m", type=click.File("r"), metavar="FILE",
              help="A chain: an encoder (one layer per line) the chain must invert, size for size.")
@click.option("--framework", "-f", type=click.Choice(FRAMEWORKS))
@click.option("--limit", "-n", default=20, show_default=True, help="Solutions or designs shown (0: all).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def solve(layer_text: str, input_shape: str, output_shape: str | None, through: tuple[str, ...], mirror,
          framework: str | None, limit: int, as_json: bool) -> None:
    """The parameters that give the shape you want. LAYER is a layer with unknowns written ? (default bounds),
    a range 1..4 or a set {3, 5}: nn.ConvTranspose2d(16, 1, kernel_size=?, stride=1..4, padding=?), or a file
    (or -) with one such layer per line to design a chain."""
    from .render.solve import render_designs, render_inverse, render_solutions
    from .solver import inverse, solve_chain
    from .solver import solve as solve_layer

    text = _layer_or_file(layer_text)
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    if output_shape is None:
        if len(lines) != 1 or through or mirror:
            raise ShapesmithError("a chain needs its target shape", fix="add --output SHAPE")
        v = inverse(lines[0], input_shape=input_shape, framework=framework)
        _emit(v, as_json, lambda: render_inverse(v))
    elif len(lines) == 1 and not through and not mirror:
        s = solve_layer(lines[0], input_shape=input_shape, output_shape=output_shape, framework=framework)
        _emit(s, as_json, lambda: render_solutions(s, limit))
    else:
        d = solve_chain(lines, input_shape=input_shape, output_shape=output_shape,
                               through=[None if t == "any" else t for t in through] or None,
                               mirror=mirror.read() if mirror else None, framework=framework, limit=limit or 10**9)
        _emit(d, as_json, lambda: render_designs(d, limit))


@cli.command()
@click.argument("layer_text", metavar="LAYER")
@click.option("--input", "-i", "input_path", metavar="X", required=True,
              help="The input: a .npy file (a .npz for several inputs), or a shape for seeded random values.")
@click.option("--weights", "-w", metavar="W", help="Weights: .pt/.pth state_dict, .safetensors, .npz, Keras "
              ".weights.h5 / .keras, .onnx initializers.")
@click.option("--prefix", "-p", metavar="NAME", help="Take one layer's tensors from a whole model's file: 'conv1.'.")
@click.option("--output", "-o", "output_path", metavar="Y", help="Write the result: .npy (.npz for several outputs).")
@click.option("--framework", "-f", type=click.Choice(FRAMEWORKS))
@click.option("--explain", "-e", is_flag=True, help="Show the unfold (im2col) view of a convolution.")
@click.option("--position", metavar="N,M", help="With --explain: the output position to trace back (default first).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def forward(layer_text: str, input_path: str, weights: str | None, prefix: str | None, output_path: str | None,
            framework: str | None, explain: bool, position: str | None, as_json: bool) -> None:
    """What LAYER computes on X with the framework's own weights, in numpy."""
    from .numeric.run import run_forward

    result = run_forward(layer_text, input_path, weights=weights, prefix=prefix, output=output_path,
                         framework=framework, explain=explain, position=position)
    _emit(result, as_json, result.render)


@cli.command()
@click.argument("model", metavar="MODEL")
@click.option("--input", "-i", "input_shape", metavar="SHAPE",
              help="Input shape, batch dim included; symbols (h, w) leave those dims free.")
@click.option("--valid-inputs", "-v", is_flag=True, help="The exact set of input sizes the model accepts, as boxes.")
@click.option("--depth", "-d", type=int, help="Nesting depth of the module tree shown (like torchinfo's).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def summary(model: str, input_shape: str | None, valid_inputs: bool, depth: int | None, as_json: bool) -> None:
    """A whole model's shapes, parameters and multiply-adds, without running it. MODEL: a .onnx or .keras file,
    module.path:factory (returning a torch nn.Module or a Keras model), or a trace file."""
    from .render.summary import render_summary
    from .summarize import run_summary

    s = run_summary(model, input_shape=input_shape, valid_inputs=valid_inputs, depth=depth)
    _emit(s, as_json, lambda: render_summary(s, depth))


@cli.command(name="draw")
@click.argument("layer_text", metavar="LAYER")
@click.option("--input", "-i", "input_shape", metavar="SHAPE", required=True, help="Input shape, batch dim included.")
@click.option("--out", "-o", "out", metavar="FILE", required=True, help="FILE.svg, or FILE.png.")
@click.option("--kind", "-k", type=click.Choice(("auto", "window", "scatter", "unfold", "flow")), default="auto",
              show_default=True, help="window: a conv/pool's sliding window; scatter: a transposed conv; unfold: "
              "the im2col matrix; flow: a stack's shapes.")
@click.option("--position", "-p", metavar="N,M", help="The output position (window, unfold) or input cell (scatter).")
@click.option("--axes", metavar="A,B", help="The spatial axes to draw (default the last two).")
@click.option("--framework", "-f", type=click.Choice(FRAMEWORKS))
def draw_cmd(layer_text: str, input_shape: str, out: str, kind: str, position: str | None, axes: str | None,
             framework: str | None) -> None:
    """A picture of LAYER's arithmetic (or of a stack's shapes), as SVG or PNG."""
    from .render.svg import draw

    picture = draw(_layer_or_file(layer_text), input_shape, framework=framework, kind=kind, position=position,
                   axes=axes)
    picture.save(out)
    click.echo(f"wrote {out} ({picture.kind}, {picture.width}x{picture.height})")


@cli.command(name="serve")
@click.option("--port", "-p", default=8000, show_default=True, type=int)
def serve_cmd(port: int) -> None:
    """The local web page, on 127.0.0.1 only; its state lives in the URL."""
    from .web import serve

    serve(port=port)


def _layer_or_file(text: str) -> str:
    """``-`` is stdin; an existing file's path is its text; anything else is layer text."""
    import os
    if text == "-":
        return sys.stdin.read()
    if "(" not in text and os.path.isfile(text):
        with open(text, encoding="utf-8") as f:
            return f.read()
    return text


def main(argv: list[str] | None = None) -> int:
    try:
        cli.main(args=argv, prog_name="shapesmith", standalone_mode=False)
    except ShapesmithError as err:
        click.echo(f"error: {err}", err=True)
        return 2
    except click.ClickException as err:
        click.echo(f"error: {err.format_message()}", err=True)
        return 2
    except click.exceptions.Abort:
        return 1
    except Exception as err:  # noqa: BLE001 - the CLI never shows a traceback
        click.echo(f"error: internal error ({type(err).__name__}: {err}); please report it with the command you ran",
                   err=True)
        return 70
    return 0


if __name__ == "__main__":
    sys.exit(main())
