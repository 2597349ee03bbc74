"""`shapesmith serve`: a local page (127.0.0.1 only) over JSON endpoints that call the library.

Endpoints (POST, JSON in and out; an error is ``{"error": message}`` with a 4xx status):

- ``/api/trace`` ``{code, input, framework?}``: the trace (as ``shapesmith trace --json``), plus ``controls``
  (the layer's kernel / stride / padding / dilation / output padding arguments, for sliders) and ``sizes``
  (a transposed conv's sizes the forward conv maps back);
- ``/api/draw`` ``{code, input, framework?, kind?, position?}``: a picture (:func:`shapesmith.render.svg.draw`);
- ``/api/solve`` ``{code, input, output, framework?, search?}``: the solver; ``search`` names arguments to
  make unknown (``?``) before solving;
- ``/api/set`` ``{code, framework?, param, index?, value}``: the layer text with one argument rewritten.

The text is parsed with ``ast`` by the library and never evaluated. Requests are capped (body size, layers,
input sizes), computed on a small thread pool, and a full pool answers 503 rather than queueing without end.
Starlette and uvicorn are imported by :func:`create_app` and :func:`serve` only.
"""

from __future__ import annotations

import ast
import json
import socket
import threading
from pathlib import Path

from ..dims import format_dim, parse_shape
from ..errors import ParseError, ShapesmithError

MAX_BODY = 64 * 1024  # bytes per request
MAX_CODE = 20_000  # characters of layer text
MAX_SHAPE = 400  # characters of a shape
MAX_LAYERS = 1_000
MAX_DIM = 10**7  # per concrete input dim: the page draws and solves interactively
MAX_VALUE = 10_000  # a slider's value
MAX_SOLUTIONS = 50
MAX_LISTED = 16  # transposed-conv sizes listed per axis
WORKERS = 2  # computations at once (the library is CPU-bound)
MAX_WAITING = 16  # requests waiting for a worker; more get 503
LOOPBACK = ("127.0.0.1", "localhost")
FRAMEWORKS = ("torch", "keras", "keras2", "keras1", "tf", "onnx")
STATIC = Path(__file__).parent / "static"


class RequestError(ShapesmithError):
    """A request the page cannot take; ``status`` is its HTTP status."""

    def __init__(self, what: str, status: int = 400, **kwargs):
        super().__init__(what, **kwargs)
        self.status = status


# ---------------------------------------------------------------------------- endpoints (no web framework here)
def api_trace(body: dict) -> dict:
    from ..render.svg import sizes_mapping_back
    from ..trace import trace

    code, shape, framework = _common(body)
    try:
        t = trace(code, input_shape=shape, framework=framework)
    except ParseError as err:
        if "?" in code:
            raise RequestError("the layer has unknowns (?): set a target shape and press Solve", status=422,
                               fix=f"or write a value in place of each ? ({err.what})") from None
        raise
    if len(t.layers) > MAX_LAYERS:
        raise RequestError(f"a stack of {len(t.layers)} layers", status=422,
                           expected=f"at most {MAX_LAYERS} on the page", fix="use `shapesmith trace` for longer stacks")
    out = t.to_dict()
    out["controls"], out["sizes"] = [], []
    if len(t.layers) == 1:
        result = t.layers[0]
        out["controls"] = controls(code, result.layer.framework)
        for step, sizes in zip(result.steps, sizes_mapping_back(result) or []):
            out["sizes"].append({"axis": step.axis, "input": format_dim(dict(step.values)["i"]),
                                 "sizes": [{"size": format_dim(o), "how": how} for o, how in sizes[:MAX_LISTED]],
                                 "total": len(sizes)})
    return out


def api_draw(body: dict) -> dict:
    from ..render.svg import draw

    code, shape, framework = _common(body)
    kind = _text(body, "kind", 20, required=False) or "auto"
    position = body.get("position")
    if position is not None and not isinstance(position, (str, list, int)):
        raise RequestError("position must be text such as '1,2' or a list of integers")
    if isinstance(position, str) and not position.strip():
        position = None
    if isinstance(position, list):
        position = tuple(position)
    _check_layers(code)
    return draw(code, shape, framework=framework, kind=kind, position=position).to_dict()


def api_solve(body: dict) -> dict:
    from ..solver import solve

    code, shape, framework = _common(body)
    target = _text(body, "output", MAX_SHAPE)
    _check_dims(target)
    search = body.get("search") or []
    if not isinstance(search, list) or not all(isinstance(s, str) for s in search) or len(search) > 10:
        raise RequestError("search must be a list of argument names")
    if search:
        try:
            code = unknown(code, framework, search)
        except ParseError as err:
            raise RequestError(f"cannot mark {', '.join(search)} unknown: {err.what}", status=422,
                               fix="untick the arguments and write ? in the layer yourself, or not both") from None
    s = solve(code, input_shape=shape, output_shape=target, framework=framework)
    out = s.to_dict()
    out["total"] = len(out["solutions"])
    out["solutions"] = out["solutions"][:MAX_SOLUTIONS]
    return out


def api_set(body: dict) -> dict:
    code = _text(body, "code", MAX_CODE)
    framework = _framework(body)
    param = _text(body, "param", 40)
    index = body.get("index")
    if index is not None and (not isinstance(index, int) or isinstance(index, bool)):
        raise RequestError("index must be an integer or null")
    value = body.get("value")
    if not isinstance(value, (int, str)) or isinstance(value, bool):
        raise RequestError("value must be an integer or a text choice")
    return {"code": rewrite(code, framework, param, index, value)}


ENDPOINTS = {"/api/trace": api_trace, "/api/draw": api_draw, "/api/solve": api_solve, "/api/set": api_set}


def _common(body: dict) -> tuple[str, str, str | None]:
    code = _text(body, "code", MAX_CODE)
    shape = _text(body, "input", MAX_SHAPE, required=False) or None
    if shape is not None:
        _check_dims(shape)
    return code, shape, _framework(body)


def _text(body: dict, key: str, limit: int, required: bool = True) -> str:
    value = body.get(key)
    if value is None or value == "":
        if required:
            raise RequestError(f"no {key} given", status=422, fix=f"fill in the {key}")
        return ""
    if not isinstance(value, str):
        raise RequestError(f"{key} must be text")
    if len(value) > limit:
        raise RequestError(f"{key} of {len(value):,} characters", status=413, expected=f"at most {limit:,}")
    return value


def _framework(body: dict) -> str | None:
    value = body.get("framework") or None
    if value is not None and value not in FRAMEWORKS:
        raise RequestError(f"unknown framework {value!r}", status=422, expected=f"one of {', '.join(FRAMEWORKS)}")
    return value


def _check_dims(shape: str) -> None:
    """Concrete dims up to :data:`MAX_DIM`: the page computes and draws while one types."""
    for d in parse_shape(shape):
        if isinstance(d, int) and d > MAX_DIM:
            raise RequestError(f"the input size {d:,} is larger than the page takes", status=422,
                               expected=f"sizes up to {MAX_DIM:,}",
                               fix="use a smaller size (the arithmetic is the same), a symbol such as h, "
                                   "or the command line")


def _check_layers(code: str) -> None:
    lines = sum(1 for line in code.splitlines() if line.strip())
    if lines > MAX_LAYERS:
        raise RequestError(f"a stack of {lines} lines", status=422, expected=f"at most {MAX_LAYERS} on the page")


# ---------------------------------------------------------------------------- sliders: the layer's own arguments
ROLES = (  # (role, argument names across dialects, slider minimum, slider maximum)
    ("kernel", ("kernel_size", "kernel_shape", "pool_size", "ksize", "nb_row", "nb_col", "filter_length",
                "pool_length", "kernel_dim1", "kernel_dim2", "kernel_dim3"), 1, 9),
    ("stride", ("stride", "strides", "subsample", "subsample_length"), 1, 6),
    ("padding", ("padding", "pads", "border_mode", "auto_pad"), 0, 6),
    ("dilation", ("dilation", "dilation_rate", "dilations", "atrous_rate"), 1, 5),
    ("output padding", ("output_padding",), 0, 4),
)
ONNX_LISTS = {"strides": 1, "dilations": 1, "pads": 0, "output_padding": 0}  # ONNX attributes: one entry per axis


class CallSite:
    """One layer call in the text and where each argument's value sits (character offsets)."""

    def __init__(self, code: str, framework: str | None):
        from ..dialects import detect, dialect
        from ..dialects.base import parse_call

        self.text = code.strip()
        call = parse_call(self.text)
        self.dialect = dialect(framework) if framework else detect(call)
        spec = self.dialect.lookup(call)
        if spec is None:
            raise ParseError(f"{call.name} is not a {self.dialect.title} layer shapesmith knows")
        self.spec = spec
        node = ast.parse(self.text, mode="eval").body
        if isinstance(node.func, ast.Call):
            node = node.func
        self.node = node
        self.nodes: dict[str, ast.expr] = dict(zip(spec.params, node.args))
        self.nodes.update({kw.arg: kw.value for kw in node.keywords if kw.arg})
        self.starts = [0]
        for line in self.text.splitlines(keepends=True):
            self.starts.append(self.starts[-1] + len(line))

    def offset(self, line: int, col: int) -> int:
        """A character offset from ``ast``'s line and UTF-8 byte column."""
        start = self.starts[line - 1]
        return start + len(self.text[start:].encode("utf-8")[:col].decode("utf-8", "ignore"))

    def span(self, node: ast.AST) -> tuple[int, int]:
        return self.offset(node.lineno, node.col_offset), self.offset(node.end_lineno, node.end_col_offset)

    def with_values(self, values: dict[str, str]) -> str:
        """The text with each argument's value replaced by the given source; one not written is added as a
        keyword after the last argument."""
        edits = [(*self.span(self.nodes[p]), v) for p, v in values.items() if p in self.nodes]
        added = ", ".join(f"{p}={v}" for p, v in values.items() if p not in self.nodes)
        if added:
            arguments = [*self.node.args, *self.node.keywords]
            if arguments:
                end = self.span(arguments[-1])[1]
                edits.append((end, end, ", " + added))
            else:
                at = self.span(self.node)[1] - 1  # the closing parenthesis
                edits.append((at, at, added))
        text = self.text
        for a, b, source in sorted(edits, reverse=True):
            text = text[:a] + source + text[b:]
        return text


def controls(code: str, framework: str | None) -> list[dict]:
    """The layer's window arguments as sliders (an int, or one per entry of a tuple) or choices (a string)."""
    from ..dialects import build_layer
    from ..ops import Conv, ConvTranspose, Pool
    from ..ops.separable import DepthwiseConv

    try:
        site = CallSite(code, framework)
        layer = build_layer(site.text, site.dialect.name)
    except ShapesmithError:
        return []
    if not isinstance(layer.op, (Conv, ConvTranspose, Pool, DepthwiseConv)):
        return []
    out = []
    for role, names, low, high in ROLES:
        for name in names:
            if name not in site.spec.params:
                continue
            given = name in site.nodes
            value = _literal(site.nodes[name]) if given else _default(site, name, role, layer.op)
            base = {"param": name, "role": role, "given": given}
            if isinstance(value, bool) or value is None:
                continue
            if isinstance(value, int):
                out.append({**base, "index": None, "kind": "int", "value": value, "min": low,
                            "max": max(high, value)})
            elif isinstance(value, str):
                out.append({**base, "index": None, "kind": "choice", "value": value,
                            "options": _choices(site, name, value)})
            elif isinstance(value, (tuple, list)) and value and all(
                    isinstance(v, int) and not isinstance(v, bool) for v in value):
                for j, v in enumerate(value):
                    out.append({**base, "index": j, "kind": "int", "value": v, "min": low, "max": max(high, v),
                                "list": list(value), "brackets": "[]" if isinstance(value, list) else "()"})
    return out


def _literal(node: ast.expr):
    try:
        return ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None  # a symbol or a call: not a slider


def _default(site: CallSite, name: str, role: str, op) -> object:
    """What an argument left out amounts to: the signature's default, else (``None``) the canonical op's value,
    as a list for an ONNX attribute."""
    default = site.spec.defaults.get(name)
    if default is not None:
        return default
    if site.dialect.name == "onnx":
        if name in ONNX_LISTS:
            return [ONNX_LISTS[name]] * (op.rank * (2 if name == "pads" else 1))
        return None
    canonical = {"kernel": op.kernel, "stride": op.stride, "dilation": op.dilation}.get(role)
    if canonical is not None and len(set(canonical)) == 1:
        return canonical[0]
    return 0 if role in ("padding", "output padding") else None


def _choices(site: CallSite, name: str, value: str) -> list[str]:
    from ..solver import BOUNDS

    family = "keras" if site.dialect.name == "keras2" else site.dialect.name
    known = [v for v in BOUNDS.get((family, name), ("valid", "same")) if isinstance(v, str)]
    return known if value in known else [value, *known]


def rewrite(code: str, framework: str | None, param: str, index: int | None, value: int | str) -> str:
    """The layer text with argument ``param`` (entry ``index`` of a tuple) set to ``value``."""
    site = CallSite(code, framework)
    control = next((c for c in _own(site, param) if c["index"] == index), None)
    if control is None:
        raise RequestError(f"{param}[{index}] is not an entry of this layer's {param}", status=422)
    if control["kind"] == "choice":
        if value not in control["options"]:
            raise RequestError(f"{param}={value!r}", status=422, expected=f"one of {', '.join(control['options'])}")
        return site.with_values({param: repr(value)})
    if not isinstance(value, int) or not 0 <= value <= MAX_VALUE:
        raise RequestError(f"{param}={value!r}", status=422, expected=f"an integer between 0 and {MAX_VALUE}")
    if index is None:
        return site.with_values({param: str(value)})
    entries = list(control["list"])
    entries[index] = value
    return site.with_values({param: _bracket(control["brackets"], [str(v) for v in entries])})


def unknown(code: str, framework: str | None, params: list[str]) -> str:
    """The layer text with the arguments ``params`` made unknowns for the solver: ``?``, or ``(?, ?)`` per axis
    where the argument is a tuple."""
    site = CallSite(code, framework)
    values = {}
    for param in dict.fromkeys(params):
        entries = _own(site, param)[0].get("list")
        values[param] = "?" if entries is None else _bracket(_own(site, param)[0]["brackets"], ["?"] * len(entries))
    return site.with_values(values)


def _own(site: CallSite, param: str) -> list[dict]:
    """The sliders of argument ``param``; an argument the page does not offer is refused."""
    offered = controls(site.text, site.dialect.name)
    own = [c for c in offered if c["param"] == param]
    if not own:
        known = sorted({c["param"] for c in offered})
        raise RequestError(f"{param!r} is not an argument the page can set on this layer", status=422,
                           expected=f"one of {', '.join(known)}" if known else "a convolution or pooling layer")
    return own


def _bracket(brackets: str, entries: list[str]) -> str:
    inner = ", ".join(entries) + ("," if brackets == "()" and len(entries) == 1 else "")
    return f"{brackets[0]}{inner}{brackets[1]}"


# ---------------------------------------------------------------------------- the web application
def create_app():
    """The Starlette application: the page, its static files, and the JSON endpoints."""
    try:
        import anyio
        import starlette  # noqa: F401
    except ImportError:
        raise ShapesmithError("the web page needs its extra packages",
                              fix="pip install 'shapesmith[web]' (starlette and uvicorn)") from None
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.trustedhost import TrustedHostMiddleware
    from starlette.requests import Request
    from starlette.responses import FileResponse, JSONResponse, Response
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    limiter = anyio.CapacityLimiter(WORKERS)
    waiting = threading.BoundedSemaphore(MAX_WAITING)
    headers = {"Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
               "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}

    def error(message: str, status: int) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=status, headers=headers)

    async def page(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers=headers)

    async def endpoint(request: Request) -> Response:
        handler = ENDPOINTS[request.url.path]
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return error("send JSON (Content-Type: application/json)", 415)
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
            return error(f"the request is larger than {MAX_BODY // 1024} KiB", 413)
        raw = bytearray()
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > MAX_BODY:
                return error(f"the request is larger than {MAX_BODY // 1024} KiB", 413)
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            return error("the request is not valid JSON", 400)
        if not isinstance(body, dict):
            return error("the request must be a JSON object", 400)
        if not waiting.acquire(blocking=False):
            return error("the server is busy; try again in a moment", 503)
        try:
            result = await anyio.to_thread.run_sync(_answer, handler, body, limiter=limiter)
        finally:
            waiting.release()
        status, payload = result
        return JSONResponse(payload, status_code=status, headers=headers)

    routes = [Route("/", page), *(Route(path, endpoint, methods=["POST"]) for path in ENDPOINTS),
              Mount("/static", StaticFiles(directory=STATIC), name="static")]
    middleware = [Middleware(TrustedHostMiddleware, allowed_hosts=list(LOOPBACK))]  # no DNS rebinding
    return Starlette(routes=routes, middleware=middleware)


def _answer(handler, body: dict) -> tuple[int, dict]:
    """Run one endpoint: a user-facing error is a 4xx with its message; nothing escapes as a crash."""
    try:
        return 200, handler(body)
    except RequestError as err:
        return err.status, {"error": str(err)}
    except ShapesmithError as err:
        return 422, {"error": str(err)}
    except (RecursionError, MemoryError, OverflowError) as err:
        return 422, {"error": f"the input is too large or too deeply nested to compute ({type(err).__name__})"}
    except Exception as err:  # noqa: BLE001 - the page shows it; the server keeps serving
        return 500, {"error": f"internal error ({type(err).__name__}: {err}); please report the layer and shape"}


def serve(port: int = 8000, host: str = "127.0.0.1") -> None:
    """Serve the page on ``http://127.0.0.1:port/`` until interrupted; only a loopback host is accepted."""
    if host not in LOOPBACK:
        raise ShapesmithError(f"host {host!r}: the page is served on this machine only",
                              expected=f"one of {', '.join(LOOPBACK)}")
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise ShapesmithError(f"port {port!r}", expected="a port number between 1 and 65535")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise ShapesmithError(f"port {port} on 127.0.0.1 is in use",
                                  fix="pass --port with another number") from None
    make_server(port).run()


def make_server(port: int, log_level: str = "info"):
    """The uvicorn server of the page on ``127.0.0.1:port`` (its ``run()`` blocks; ``should_exit`` stops it)."""
    app = create_app()
    try:
        import uvicorn
    except ImportError:
        raise ShapesmithError("the web page needs its extra packages",
                              fix="pip install 'shapesmith[web]' (starlette and uvicorn)") from None
    config = uvicorn.Config(app, host="127.0.0.1", port=port, limit_concurrency=64, timeout_keep_alive=5,
                            access_log=False, log_level=log_level)
    return uvicorn.Server(config)
