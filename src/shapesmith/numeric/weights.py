"""Weight files as ``{name: ndarray}``, named as each framework names them, and read without running any code.

* ``.pt`` / ``.pth``: a PyTorch ``state_dict``, by ``torch.load(weights_only=True)``; without torch, the zip
  archive is read by a small pickle interpreter that knows only the names a ``state_dict`` uses (tensors,
  storages, ``OrderedDict``) and refuses anything else before it is called.
* ``.safetensors`` (the ``safetensors`` package's numpy API; bfloat16 widened to float32), ``.npz``
  (``allow_pickle=False``).
* Keras ``.weights.h5`` (Keras 3: ``layers/<key>/vars/<i>``, the variables named by the layer type's order),
  ``.keras`` (its ``model.weights.h5``, the layer types from ``config.json``, never deserialized) and the
  legacy ``.h5`` layout of tf.keras 2 / Keras 1 (``weight_names`` attributes).
* ``.onnx``: the initializers; with ``prefix=`` a node's name, its inputs named as the operator names them.

Nested names are dotted (``layer1.0.conv1.weight``, ``inner.dense.kernel``); ``prefix`` keeps one layer's
tensors, the prefix stripped.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from ..errors import ShapesmithError

ZIP_MAGIC = b"PK\x03\x04"
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
PICKLE_MAGIC = b"\x80"  # a pickle protocol >= 2 (torch's legacy, non-zip format)
KINDS = {".pt": "torch", ".pth": "torch", ".bin": "torch", ".safetensors": "safetensors", ".npz": "npz",
         ".h5": "h5", ".hdf5": "h5", ".keras": "keras", ".onnx": "onnx"}
MAX_LISTED = 25


class WeightFileError(ShapesmithError):
    """A weight file that cannot be read as what its name says."""


def load_weights(path: str | os.PathLike, *, prefix: str | None = None, layer: object = None) -> dict[str, np.ndarray]:
    """The tensors of ``path`` by name; ``prefix`` keeps those under one layer, the prefix stripped.

    ``layer`` (the built shapesmith layer the weights are for) names the variables of a Keras ``.weights.h5``
    layer by its type and arguments (which variables exist depends on ``use_bias``, ``center``, ...); given
    without ``prefix``, a file that holds one layer's weights gives them without that layer's path.
    """
    file = Path(path)
    if not file.is_file():
        raise WeightFileError(f"weight file {str(path)!r} does not exist" if not file.exists() else
                              f"{str(path)!r} is not a file", fix="check the path")
    kind = KINDS.get(file.suffix.lower())
    if kind is None:
        raise WeightFileError(f"{file.name}: unknown weight file extension {file.suffix or '(none)'!r}",
                              expected="one of " + ", ".join(sorted(KINDS)),
                              fix="save the weights with the framework's own function, or rename the file")
    try:
        return _read(file, kind, prefix, layer)
    except DAMAGED as exc:  # a cut or corrupted file fails deep inside zipfile, zlib, pickle or struct
        raise WeightFileError(f"{file.name} is damaged: {type(exc).__name__}: {str(exc)[:80]}",
                              fix="save or download it again") from None


# What reading a damaged file raises below our own checks; each becomes a WeightFileError.
DAMAGED = (zipfile.BadZipFile, zlib.error, NotImplementedError, EOFError, struct.error, KeyError, IndexError,
           UnicodeDecodeError, OSError, pickle.UnpicklingError, RuntimeError)  # RuntimeError: an encrypted zip member


def _read(file: Path, kind: str, prefix: str | None, layer: object) -> dict[str, np.ndarray]:
    head = _head(file)
    only = layer is not None and prefix is None  # the file's one layer, if it holds one
    if kind == "onnx":
        return _onnx(file, prefix, only)
    problems: dict = {}
    if kind == "h5":
        _expect(file, head.startswith(HDF5_MAGIC), "an HDF5 file (Keras .h5 / .weights.h5)")
        tensors, problems = _keras_h5_file(file, _chosen(layer, prefix))
    elif kind == "keras":
        _expect(file, head.startswith(ZIP_MAGIC), "a .keras archive (a zip file)")
        tensors, problems = _keras_archive(file, _chosen(layer, prefix))
    elif kind == "npz":
        _expect(file, head.startswith(ZIP_MAGIC), "a numpy .npz archive (a zip file)")
        tensors = _npz(file)
    elif kind == "safetensors":
        tensors = _safetensors(file, head)
    else:
        _expect(file, head.startswith(ZIP_MAGIC) or head.startswith(PICKLE_MAGIC),
                "a PyTorch file written by torch.save (a zip archive)")
        tensors = _state_dict(_torch(file, head))
    if only:
        paths = {k.rsplit(".", 1)[0] if "." in k else "" for k in tensors}
        prefix = paths.pop() if len(paths) == 1 and "" not in paths else None
    return _select(tensors, prefix, file, problems)


def _head(file: Path) -> bytes:
    with open(file, "rb") as f:
        return f.read(16)


def _expect(file: Path, ok: bool, what: str) -> None:
    if not ok:
        raise WeightFileError(f"{file.name} is not {what}: its content does not match its extension",
                              fix="check that the file is the one you meant, and that its download completed")


def _numeric(name: str, value: np.ndarray, file: Path) -> np.ndarray:
    value = np.asarray(value)
    if value.dtype.kind not in "fiu" or value.dtype.itemsize > 8:
        raise WeightFileError(f"{file.name}: tensor {name!r} has dtype {value.dtype}",
                              expected="numeric (float or integer) tensors",
                              fix="save only the model's weights (a state_dict), not other objects")
    return value


# ----------------------------------------------------------------------------- prefixes
def _layer_paths(names) -> list[str]:
    """The layer paths the names fall under (``layer1.0.conv1`` for ``layer1.0.conv1.weight``)."""
    return sorted({n.rsplit(".", 1)[0] for n in names if "." in n})


def _listed(items: list[str]) -> str:
    shown = ", ".join(items[:MAX_LISTED])
    return shown + (f", ... ({len(items) - MAX_LISTED} more)" if len(items) > MAX_LISTED else "") if items else "none"


def _select(tensors: dict[str, np.ndarray], prefix: str | None, file: Path,
            problems: Mapping[tuple[str, ...], ShapesmithError] | None = None) -> dict[str, np.ndarray]:
    """The tensors under ``prefix`` (a layer path, with or without its final dot), the prefix stripped.
    ``problems``: layers whose variables could not be named (Keras), an error only when selected."""
    selected = tuple(prefix.rstrip(".").split(".")) if prefix else ()
    for path, problem in (problems or {}).items():
        if path[:len(selected)] == selected:
            raise problem
    if prefix is not None:
        path = prefix.rstrip(".")
        chosen = {k[len(path) + 1:]: v for k, v in tensors.items() if k.startswith(path + ".")}
        if not chosen:
            raise WeightFileError(f"{file.name} has no weights under the prefix {prefix!r}",
                                  expected=f"one of the layers {_listed(_layer_paths(tensors))}",
                                  fix="pick the layer's prefix from that list")
        tensors = chosen
    return {k: _numeric(k, v, file) for k, v in tensors.items()}


# ----------------------------------------------------------------------------- numpy, safetensors
def _npz(file: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(file, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except ValueError as exc:  # object arrays need pickle: refused
        raise WeightFileError(f"{file.name} holds arrays numpy can only read by unpickling ({exc})",
                              expected="plain numeric arrays", fix="save the weights with np.savez") from None
    except (OSError, zipfile.BadZipFile, EOFError, KeyError) as exc:
        raise WeightFileError(f"{file.name} is not a readable .npz archive ({exc})",
                              fix="check that the file is complete") from None


SAFETENSORS_DTYPES = {"F64", "F32", "F16", "BF16", "I64", "I32", "I16", "I8", "U64", "U32", "U16", "U8", "BOOL"}


def _safetensors(file: Path, head: bytes) -> dict[str, np.ndarray]:
    """The header (8-byte length, then JSON) is checked first; the tensors come from ``safetensors.numpy``,
    except bfloat16 (no numpy type), widened to float32 from its bits."""
    size = file.stat().st_size
    n = struct.unpack("<Q", head[:8])[0] if len(head) >= 8 else 0
    _expect(file, len(head) >= 9 and 2 <= n <= size - 8 and head[8:9] == b"{", "a .safetensors file")
    with open(file, "rb") as f:
        f.seek(8)
        try:
            header = json.loads(f.read(n))
        except (UnicodeDecodeError, json.JSONDecodeError):
            _expect(file, False, "a .safetensors file")
    if not isinstance(header, dict):
        _expect(file, False, "a .safetensors file")
    entries = {k: v for k, v in header.items() if k != "__metadata__"}
    for name, entry in entries.items():
        ok = isinstance(entry, dict) and isinstance(entry.get("data_offsets"), list) and len(entry["data_offsets"]) == 2
        end = entry["data_offsets"][1] if ok else None
        if not ok or not isinstance(end, int) or 8 + n + end > size:
            raise WeightFileError(f"{file.name}: tensor {name!r} lies beyond the end of the file ({size} bytes): "
                                  "the file is truncated or corrupt", fix="download or save it again")
        if entry.get("dtype") not in SAFETENSORS_DTYPES:
            raise WeightFileError(f"{file.name}: tensor {name!r} has dtype {entry.get('dtype')!r}",
                                  expected="numeric tensors")
    safetensors = _need("safetensors", "weights", "a .safetensors file")
    SafetensorError, safe_open = safetensors.SafetensorError, safetensors.safe_open
    out = {}
    try:
        with safe_open(str(file), framework="numpy") as f:
            for name, entry in entries.items():
                if entry["dtype"] == "BF16":
                    out[name] = _bf16(file, 8 + n, entry)
                else:
                    out[name] = f.get_tensor(name)
    except (SafetensorError, OSError, ValueError) as exc:
        raise WeightFileError(f"{file.name} is not a readable .safetensors file ({exc})",
                              fix="download or save it again") from None
    return out


def _bf16(file: Path, base: int, entry: dict) -> np.ndarray:
    """bfloat16 is the top half of a float32: shift the bits up (exact)."""
    start, end = entry["data_offsets"]
    with open(file, "rb") as f:
        f.seek(base + start)
        bits = np.frombuffer(f.read(end - start), dtype="<u2")
    return (bits.astype(np.uint32) << 16).view(np.float32).reshape(entry["shape"])


def _need(module: str, extra: str, what: str):
    """An optional library a file type needs, or an error naming the extra that installs it."""
    import importlib
    try:
        return importlib.import_module(module)
    except ImportError:
        raise WeightFileError(f"reading {what} needs the {module} package, which is not installed",
                              fix=f"pip install 'shapesmith[{extra}]'") from None


# ----------------------------------------------------------------------------- torch
def _torch(file: Path, head: bytes) -> object:
    try:
        import torch
    except ImportError:
        if not head.startswith(ZIP_MAGIC):
            raise WeightFileError(f"{file.name} is in PyTorch's legacy (non-zip) format, which needs torch",
                                  fix="pip install 'shapesmith[torch]', or re-save it with a recent torch.save"
                                  ) from None
        return read_torch_zip(file)
    try:
        return torch.load(file, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch's restricted unpickler refuses code; anything else is a broken file
        lines = [line.strip() for line in re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).splitlines()]
        refused = next((line.split(". ")[0] for line in lines if line.startswith("WeightsUnpickler error")), None)
        raise WeightFileError(f"{file.name} cannot be read as weights: {refused or _first_line(exc)}",
                              expected="a state_dict of tensors (torch.save(model.state_dict(), path))",
                              fix="save only the state_dict; shapesmith never runs code from a weight file") from None


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


def _is_tensor(value: object) -> bool:
    return isinstance(value, np.ndarray) or type(value).__module__.startswith("torch") and hasattr(value, "dtype")


def _to_numpy(value: object) -> np.ndarray:
    if isinstance(value, np.ndarray):
        return value
    t = value.detach().cpu()
    if t.is_quantized or t.is_complex():
        raise WeightFileError(f"a tensor of dtype {t.dtype}", expected="float or integer tensors")
    if str(t.dtype) == "torch.bfloat16":
        t = t.float()  # exact
    return t.numpy()


def _state_dict(obj: object) -> dict[str, np.ndarray]:
    """The tensors of a loaded object: a state_dict, or one inside a checkpoint dict (``{"state_dict": ...,
    "epoch": 3}``) when it is the only dict holding tensors; otherwise every tensor, by its dotted path."""
    if not isinstance(obj, Mapping):
        raise WeightFileError(f"the file holds a {type(obj).__name__}, not a dict of tensors",
                              expected="a state_dict (torch.save(model.state_dict(), path))",
                              fix="save model.state_dict() rather than the model")
    while not any(_is_tensor(v) for v in obj.values()):
        holders = [v for v in obj.values() if isinstance(v, Mapping) and _has_tensors(v)]
        if len(holders) != 1:
            break
        obj = holders[0]
    out: dict[str, np.ndarray] = {}

    def flatten(mapping: Mapping, path: str) -> None:
        for key, value in mapping.items():
            name = f"{path}{key}"
            if _is_tensor(value):
                out[name] = _to_numpy(value)
            elif isinstance(value, Mapping):
                flatten(value, name + ".")
    flatten(obj, "")
    if not out:
        raise WeightFileError("the file holds no tensors", expected="a state_dict of tensors")
    return out


def _has_tensors(mapping: Mapping) -> bool:
    return any(_is_tensor(v) or isinstance(v, Mapping) and _has_tensors(v) for v in mapping.values())


# -- the zip archive without torch: a pickle interpreter for state_dicts only ---------------------------
TORCH_STORAGES = {"DoubleStorage": "f8", "FloatStorage": "f4", "HalfStorage": "f2", "BFloat16Storage": "bf16",
                  "LongStorage": "i8", "IntStorage": "i4", "ShortStorage": "i2", "CharStorage": "i1",
                  "ByteStorage": "u1", "BoolStorage": "b1"}


class _Storage:
    def __init__(self, kind: str):
        self.kind = kind


def _rebuild_tensor(storage, offset, size, stride, *_ignored):
    """``torch._utils._rebuild_tensor_v2``: a strided view of the storage, copied."""
    size, stride = tuple(size), tuple(stride)
    if 0 in size:
        return np.zeros(size, dtype=storage.dtype)
    last = offset + sum((n - 1) * s for n, s in zip(size, stride))
    if offset < 0 or min(stride, default=0) < 0 or last >= storage.size:
        raise WeightFileError("a tensor reaches past the end of its storage: the file is corrupt",
                              fix="save it again with torch.save")
    view = np.lib.stride_tricks.as_strided(storage[offset:], shape=size,
                                           strides=tuple(s * storage.itemsize for s in stride))
    return np.array(view)


def _rebuild_parameter(data, *_ignored):
    return data


def _ordered_dict(*items):
    return dict(*items)


TORCH_GLOBALS: dict[tuple[str, str], object] = {
    ("collections", "OrderedDict"): _ordered_dict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    **{("torch", name): _Storage(kind) for name, kind in TORCH_STORAGES.items()},
}


def read_torch_zip(file: Path) -> dict:
    """A ``torch.save`` zip archive without torch: ``data.pkl`` is interpreted opcode by opcode; a global it
    names must be one of :data:`TORCH_GLOBALS` (else the file is refused before anything is called), and
    tensors are views of the raw ``data/<key>`` storages."""
    try:
        archive = zipfile.ZipFile(file)
    except zipfile.BadZipFile:
        _expect(file, False, "a PyTorch zip archive")
    with archive:
        pickles = [n for n in archive.namelist() if n.endswith("/data.pkl") or n == "data.pkl"]
        if len(pickles) != 1:
            raise WeightFileError(f"{file.name} is a zip file but not a torch.save archive (no data.pkl)",
                                  fix="check the file")
        root = pickles[0][:-len("data.pkl")]
        names = set(archive.namelist())
        order = archive.read(root + "byteorder").decode() if root + "byteorder" in names else "little"
        endian = "<" if order.strip() == "little" else ">"

        storages: dict[str, np.ndarray] = {}

        def storage(pid):
            if isinstance(pid, tuple) and len(pid) == 5 and pid[2] in storages:
                return storages[pid[2]]
            if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage" and isinstance(pid[1], _Storage)):
                raise WeightFileError(f"{file.name}: an unexpected persistent id {pid!r:.80}")
            member = f"{root}data/{pid[2]}"
            if member not in names:
                raise WeightFileError(f"{file.name}: storage {pid[2]!r} is missing from the archive")
            raw = archive.read(member)
            if pid[1].kind == "bf16":
                bits = np.frombuffer(raw, dtype=np.dtype("u2").newbyteorder(endian))
                array = (bits.astype(np.uint32) << 16).view(np.float32)
            else:
                kind = np.dtype(pid[1].kind)
                array = np.frombuffer(raw, dtype=kind.newbyteorder(endian)).astype(kind)
            storages[pid[2]] = array
            return array

        return _Unpickler(archive.read(pickles[0]), storage, file).run()


class _Unpickler:
    """The pickle opcodes ``torch.save`` writes for a state_dict (protocol 2, and 4's framing); a callable is
    only ever one of :data:`TORCH_GLOBALS`."""

    def __init__(self, data: bytes, persistent: Callable, file: Path):
        self.data, self.pos, self.persistent, self.file = data, 0, persistent, file
        self.stack: list = []
        self.marks: list[int] = []
        self.memo: dict[int, object] = {}

    def read(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise WeightFileError(f"{self.file.name}: the pickle ends early: the file is truncated")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def line(self) -> str:
        end = self.data.find(b"\n", self.pos)
        if end < 0:
            raise WeightFileError(f"{self.file.name}: the pickle ends early: the file is truncated")
        text = self.data[self.pos:end].decode("utf-8", "replace")
        self.pos = end + 1
        return text

    def pop_mark(self) -> list:
        if not self.marks:
            raise WeightFileError(f"{self.file.name}: a malformed pickle")
        start = self.marks.pop()
        items = self.stack[start:]
        del self.stack[start:]
        return items

    def lookup(self, module: str, name: str) -> object:
        found = TORCH_GLOBALS.get((module, name))
        if found is None:
            raise WeightFileError(f"{self.file.name} refers to {module}.{name}, which a state_dict does not contain: "
                                  "refused without running it",
                                  expected="a state_dict of tensors (torch.save(model.state_dict(), path))",
                                  fix="save only the state_dict; shapesmith never runs code from a weight file")
        return found

    def run(self) -> object:
        try:
            return self._run()
        except ShapesmithError:
            raise
        except (IndexError, KeyError, TypeError, ValueError, AttributeError, struct.error, RecursionError) as exc:
            raise WeightFileError(f"{self.file.name}: a malformed pickle ({type(exc).__name__})",
                                  fix="save it again with torch.save") from None

    def _run(self) -> object:
        ops = self.OPS
        while True:
            code = self.read(1)
            if code == b".":  # STOP
                if len(self.stack) != 1:
                    raise WeightFileError(f"{self.file.name}: a malformed pickle")
                return self.stack.pop()
            handler = ops.get(code)
            if handler is None:
                raise WeightFileError(f"{self.file.name}: pickle opcode {code!r} is not used by state_dicts: refused")
            handler(self)

    def _reduce(self):
        args = self.stack.pop()
        fn = self.stack.pop()
        if not callable(fn) or fn not in TORCH_GLOBALS.values() or not isinstance(args, tuple):
            raise WeightFileError(f"{self.file.name}: a call to something other than a tensor constructor: refused")
        self.stack.append(fn(*args))

    def _build(self):
        self.stack.pop()  # the state of an OrderedDict (its _metadata) or a parameter: not needed

    def _setitems(self):
        items = self.pop_mark()
        target = self.stack[-1]
        if not isinstance(target, dict) or len(items) % 2:
            raise WeightFileError(f"{self.file.name}: a malformed pickle")
        for k in range(0, len(items), 2):
            target[items[k]] = items[k + 1]

    def _setitem(self):
        value = self.stack.pop()
        key = self.stack.pop()
        if not isinstance(self.stack[-1], dict):
            raise WeightFileError(f"{self.file.name}: a malformed pickle")
        self.stack[-1][key] = value

    def _append(self):
        value = self.stack.pop()
        if not self.stack or not isinstance(self.stack[-1], list):
            raise WeightFileError(f"{self.file.name}: a malformed pickle")
        self.stack[-1].append(value)

    def _appends(self):
        items = self.pop_mark()
        if not isinstance(self.stack[-1], list):
            raise WeightFileError(f"{self.file.name}: a malformed pickle")
        self.stack[-1].extend(items)

    def _memo_get(self, key: int):
        if key not in self.memo:
            raise WeightFileError(f"{self.file.name}: a malformed pickle")
        self.stack.append(self.memo[key])

    def _global(self):
        module = self.line()
        self.stack.append(self.lookup(module, self.line()))

    def _stack_global(self):
        name = self.stack.pop()
        module = self.stack.pop()
        self.stack.append(self.lookup(str(module), str(name)))

    def _tuple(self, n: int):
        items = tuple(self.stack[-n:]) if n else ()
        if n:
            del self.stack[-n:]
        self.stack.append(items)

    OPS: dict[bytes, Callable] = {
        b"\x80": lambda u: u.read(1),                                      # PROTO
        b"\x95": lambda u: u.read(8),                                      # FRAME
        b"(": lambda u: u.marks.append(len(u.stack)),                      # MARK
        b"}": lambda u: u.stack.append({}),                                # EMPTY_DICT
        b"]": lambda u: u.stack.append([]),                                # EMPTY_LIST
        b")": lambda u: u.stack.append(()),                                # EMPTY_TUPLE
        b"N": lambda u: u.stack.append(None),                              # NONE
        b"\x88": lambda u: u.stack.append(True),                           # NEWTRUE
        b"\x89": lambda u: u.stack.append(False),                          # NEWFALSE
        b"K": lambda u: u.stack.append(u.read(1)[0]),                      # BININT1
        b"M": lambda u: u.stack.append(struct.unpack("<H", u.read(2))[0]),  # BININT2
        b"J": lambda u: u.stack.append(struct.unpack("<i", u.read(4))[0]),  # BININT
        b"\x8a": lambda u: u.stack.append(int.from_bytes(u.read(u.read(1)[0]), "little", signed=True)),  # LONG1
        b"G": lambda u: u.stack.append(struct.unpack(">d", u.read(8))[0]),  # BINFLOAT
        b"X": lambda u: u.stack.append(u.read(struct.unpack("<I", u.read(4))[0]).decode("utf-8")),  # BINUNICODE
        b"\x8c": lambda u: u.stack.append(u.read(u.read(1)[0]).decode("utf-8")),  # SHORT_BINUNICODE
        b"t": lambda u: u.stack.append(tuple(u.pop_mark())),               # TUPLE
        b"\x85": lambda u: u._tuple(1),                                    # TUPLE1
        b"\x86": lambda u: u._tuple(2),                                    # TUPLE2
        b"\x87": lambda u: u._tuple(3),                                    # TUPLE3
        b"l": lambda u: u.stack.append(u.pop_mark()),                      # LIST
        b"a": lambda u: u._append(),                                       # APPEND
        b"e": lambda u: u._appends(),                                      # APPENDS
        b"s": lambda u: u._setitem(),                                      # SETITEM
        b"u": lambda u: u._setitems(),                                     # SETITEMS
        b"q": lambda u: u.memo.__setitem__(u.read(1)[0], u.stack[-1]),     # BINPUT
        b"r": lambda u: u.memo.__setitem__(struct.unpack("<I", u.read(4))[0], u.stack[-1]),  # LONG_BINPUT
        b"\x94": lambda u: u.memo.__setitem__(len(u.memo), u.stack[-1]),   # MEMOIZE
        b"h": lambda u: u._memo_get(u.read(1)[0]),                         # BINGET
        b"j": lambda u: u._memo_get(struct.unpack("<I", u.read(4))[0]),    # LONG_BINGET
        b"c": lambda u: u._global(),                                       # GLOBAL
        b"\x93": lambda u: u._stack_global(),                              # STACK_GLOBAL
        b"R": lambda u: u._reduce(),                                       # REDUCE
        b"b": lambda u: u._build(),                                        # BUILD
        b"Q": lambda u: u.stack.append(u.persistent(u.stack.pop())),       # BINPERSID
    }


# ----------------------------------------------------------------------------- Keras
def _snake(name: str) -> str:
    """Keras' ``to_snake_case``: the key a Keras 3 weights file stores a layer under (``Conv2D`` -> ``conv2d``)."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _bias(c):
    return ["bias"] if c.get("use_bias", True) else []


def _rnn(c):
    return ["kernel", "recurrent_kernel"] + _bias(c)


def _batchnorm(c):
    renorm = ["moving_stddev", "renorm_mean", "renorm_stddev"] * bool(c.get("renorm"))
    return ["gamma"] * bool(c.get("scale", True)) + ["beta"] * bool(c.get("center", True)) + \
        ["moving_mean", "moving_variance"] + renorm


def _layernorm(c):
    rms = c.get("rms_scaling", False)
    return ["gamma"] * bool(c.get("scale", True) or rms) + ["beta"] * bool(c.get("center", True) and not rms)


def _groupnorm(c):
    return ["gamma"] * bool(c.get("scale", True)) + ["beta"] * bool(c.get("center", True))


# The variables of each Keras layer type, in creation order (the order a Keras 3 weights file numbers them),
# from the layer's arguments.
KERAS_VARIABLES: dict[str, Callable[[Mapping], list[str]]] = {
    **dict.fromkeys(("Dense", "Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose",
                     "Convolution1D", "Convolution2D", "Convolution3D", "Convolution2DTranspose",
                     "Convolution3DTranspose"), lambda c: ["kernel"] + _bias(c)),
    "EinsumDense": lambda c: ["kernel"] + ["bias"] * bool(c.get("bias_axes")),
    **dict.fromkeys(("DepthwiseConv1D", "DepthwiseConv2D"), lambda c: ["depthwise_kernel"] + _bias(c)),
    **dict.fromkeys(("SeparableConv1D", "SeparableConv2D", "SeparableConvolution1D", "SeparableConvolution2D"),
                    lambda c: ["depthwise_kernel", "pointwise_kernel"] + _bias(c)),
    **dict.fromkeys(("SimpleRNN", "LSTM", "GRU", "SimpleRNNCell", "LSTMCell", "GRUCell", "ConvLSTM1D", "ConvLSTM2D",
                     "ConvLSTM3D"), _rnn),
    "BatchNormalization": _batchnorm,
    "LayerNormalization": _layernorm,
    "GroupNormalization": _groupnorm,
    "Embedding": lambda c: ["embeddings"],
    "PReLU": lambda c: ["alpha"],
}
KERAS_BY_SNAKE = {_snake(name): name for name in KERAS_VARIABLES}
CONTAINERS = ("Sequential", "Functional", "Model")


def _keras_names(class_name: str, config: Mapping, count: int, where: str) -> list[str]:
    """The names of a layer's ``count`` stored variables, from its type and arguments."""
    known = KERAS_VARIABLES.get(class_name)
    if known is None:
        raise WeightFileError(f"{where}: a {class_name} layer's variables have no known names in shapesmith",
                              fix="select another layer with prefix=, or save the weights as .npz by name")
    names = known(config)
    if len(names) != count:
        raise WeightFileError(f"{where}: the file stores {count} variable(s) for this {class_name}, whose arguments "
                              f"give {len(names)} ({', '.join(names)})",
                              fix="give the layer with its arguments as saved (use_bias, center, scale, ...)")
    return names


def _guess_names(class_key: str, count: int, where: str) -> list[str]:
    """Without the layer's arguments: the type from the file's key (``conv2d_1``), the variables from the count
    when only one set of arguments gives that many."""
    class_name = KERAS_BY_SNAKE.get(re.sub(r"_\d+$", "", class_key))
    if class_name is None:
        return [str(j) for j in range(count)]
    options = {tuple(KERAS_VARIABLES[class_name](dict(use_bias=b, center=c, scale=s, rms_scaling=False)))
               for b in (True, False) for c in (True, False) for s in (True, False)}
    fits = [list(o) for o in options if len(o) == count]
    if len(fits) != 1:
        raise WeightFileError(f"{where}: {count} stored variable(s) of a {class_name} can be "
                              f"{' or '.join('(' + ', '.join(f) + ')' for f in fits) or 'nothing known'}",
                              fix="give the layer (its text) so its arguments tell which")
    return fits[0]


def _chosen(layer: object, prefix: str | None):
    """``(path, (type, arguments))`` of the layer the caller gave: at ``prefix``, or (``None``) the file's only
    layer with weights."""
    if layer is None:
        return None
    path = tuple(prefix.rstrip(".").split(".")) if prefix else None
    return path, (getattr(layer, "type", type(layer).__name__), dict(getattr(layer, "config", {}) or {}))


def _keras_h5_file(file: Path, chosen) -> tuple[dict[str, np.ndarray], dict]:
    h5py = _need("h5py", "weights", "a Keras .h5 file")
    try:
        with h5py.File(file, "r") as f:
            return _keras_h5(f, file, chosen, None)
    except OSError as exc:
        raise WeightFileError(f"{file.name} is not a readable HDF5 file ({_first_line(exc)})",
                              fix="check that the file is complete") from None


def _keras_h5(f, file: Path, chosen, configs: Mapping | None) -> tuple[dict[str, np.ndarray], dict]:
    """Keras 3: each layer's ``vars`` numbered in creation order, under ``layers/<key>`` (``key`` the snake-case
    type, ``conv2d_1``; the layer's own name in the ``vars`` group's ``name``). The names come from, in order:
    ``chosen`` (the path and (type, arguments) of the layer the caller gave), the ``.keras`` config, the key."""
    import h5py
    root = f["model_weights"] if "model_weights" in f else f
    if "layer_names" in root.attrs:
        return _legacy_h5(root, file), {}
    found: list[tuple[tuple[str, ...], str, str, list[np.ndarray]]] = []

    def visit(group, path: tuple[str, ...], class_key: str, lead: str = "") -> None:
        if "vars" in group and len(group["vars"]):
            store = group["vars"]
            found.append((path, class_key, lead, [_dataset(store, str(j), file) for j in range(len(store))]))
        for key in group:
            if key == "vars" or not isinstance(group.get(key, getlink=True), h5py.HardLink):
                continue
            child = group[key]
            if not isinstance(child, h5py.Group):
                continue
            own = _text(child["vars"].attrs.get("name", key)) if "vars" in child else key
            if key == "layers":
                visit(child, path, class_key, lead)
            elif key in ("cell", "layer"):  # a recurrent cell, a wrapped layer: their variables are the layer's
                visit(child, path, own, lead)
            elif key in ("forward_layer", "backward_layer"):  # Bidirectional: forward_kernel, backward_kernel, ...
                visit(child, path, own, key.split("_")[0] + "_")
            else:
                visit(child, (*path, own), key)

    visit(root, (), "")
    if chosen is not None and chosen[0] is None and len(found) == 1:
        chosen = (found[0][0], chosen[1])  # one layer with weights: the layer given is that one
    out: dict[str, np.ndarray] = {}
    problems: dict[tuple[str, ...], WeightFileError] = {}
    for path, class_key, lead, values in found:
        where = f"{file.name}: layer {'.'.join(path) or '(top)'}"
        config_key = (*path, lead + "layer") if lead else path
        try:
            if chosen is not None and chosen[0] == path and not lead:
                names = _keras_names(*chosen[1], len(values), where)
            elif configs and config_key in configs:
                names = _keras_names(*configs[config_key], len(values), where)
            else:
                names = _guess_names(class_key, len(values), where)
        except WeightFileError as problem:
            problems[path] = problem
            names = [str(j) for j in range(len(values))]
        out.update({".".join((*path, lead + n)): v for n, v in zip(names, values)})
    return out, problems


def _dataset(group, name: str, file: Path) -> np.ndarray:
    """A dataset stored in the file itself: links to other files, external raw storage and virtual datasets
    (which read other files) are refused."""
    import h5py
    link = group.get(name, getlink=True)
    item = group.get(name) if isinstance(link, h5py.HardLink) else None
    if not isinstance(item, h5py.Dataset) or item.external or item.is_virtual:
        raise WeightFileError(f"{file.name}: {group.name}/{name} is not a dataset stored in the file",
                              fix="save the weights with Keras' own save_weights / save")
    return np.asarray(item)


def _legacy_h5(root, file: Path) -> dict[str, np.ndarray]:
    """tf.keras 2 / Keras 1 / Keras 3's legacy ``.h5``: each layer group lists its ``weight_names``
    (``dense/kernel:0``, Keras 1's ``dense_1_W``); a recurrent cell's name is dropped from the path, and a
    Bidirectional's layers become ``forward_``/``backward_`` name prefixes."""
    import h5py
    out = {}
    for layer_name in (_text(n) for n in root.attrs["layer_names"]):
        if not isinstance(root.get(layer_name, getlink=True), h5py.HardLink):
            raise WeightFileError(f"{file.name}: layer {layer_name!r} links to another file: refused",
                                  fix="save the weights with Keras' own save_weights / save")
        group = root[layer_name]
        for weight in (_text(n) for n in group.attrs.get("weight_names", [])):
            parts = weight.split(":")[0].split("/")
            if parts[0] == layer_name:
                parts = parts[1:]
            if len(parts) == 1 and parts[0].startswith(layer_name + "_"):
                parts = [parts[0][len(layer_name) + 1:]]  # Keras 1: dense_1_W
            parts = [p for p in parts[:-1] if not p.endswith("_cell")] + parts[-1:]
            if len(parts) == 2 and parts[0].startswith(("forward_", "backward_")):  # Bidirectional's two layers
                parts = [parts[0].split("_")[0] + "_" + parts[1]]
            out[".".join([layer_name, *parts])] = _dataset(group, weight, file)
    return out


def _text(value) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _keras_archive(file: Path, chosen) -> tuple[dict[str, np.ndarray], dict]:
    """A ``.keras`` zip: ``config.json`` gives each layer's type and arguments (read as JSON, never built)."""
    try:
        with zipfile.ZipFile(file) as archive:
            names = set(archive.namelist())
            if "model.weights.h5" not in names:
                raise WeightFileError(f"{file.name} is a zip file without model.weights.h5",
                                      expected="a .keras file written by model.save()", fix="check the file")
            config = json.loads(archive.read("config.json")) if "config.json" in names else None
            data = archive.read("model.weights.h5")
    except (zipfile.BadZipFile, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise WeightFileError(f"{file.name} is not a readable .keras archive ({exc})", fix="check the file") from None
    h5py = _need("h5py", "weights", "a .keras file")
    configs: dict[tuple[str, ...], tuple[str, Mapping]] = {}
    if isinstance(config, dict):
        _keras_configs(config, (), configs)
    try:
        with h5py.File(io.BytesIO(data), "r") as f:
            return _keras_h5(f, file, chosen, configs)
    except OSError as exc:
        raise WeightFileError(f"{file.name}: model.weights.h5 is not readable ({_first_line(exc)})") from None


def _keras_configs(entry: Mapping, path: tuple[str, ...], out: dict) -> None:
    """Each layer's (type, arguments) by its path of names (a model's layers under its own name; a
    Bidirectional's two layers under ``forward_layer``/``backward_layer``)."""
    config = entry.get("config") if isinstance(entry.get("config"), Mapping) else {}
    class_name = str(entry.get("class_name", ""))
    layers = config.get("layers")
    if class_name in CONTAINERS or isinstance(layers, list) and path == ():
        for child in layers or []:
            if isinstance(child, Mapping) and isinstance(child.get("config"), Mapping):
                name = str(child["config"].get("name", ""))
                _keras_configs(child, (*path, name), out)
        return
    out[path] = (class_name, config)
    inner, backward = config.get("layer"), config.get("backward_layer")
    if isinstance(inner, Mapping) and isinstance(inner.get("config"), Mapping):
        spec = (str(inner.get("class_name", "")), inner["config"])
        if class_name == "Bidirectional":
            out[(*path, "forward_layer")] = spec
            out[(*path, "backward_layer")] = spec
            if isinstance(backward, Mapping) and isinstance(backward.get("config"), Mapping):
                out[(*path, "backward_layer")] = (str(backward.get("class_name", "")), backward["config"])
        else:  # TimeDistributed and other wrappers: the wrapped layer's variables are the wrapper's
            out[path] = spec


# ----------------------------------------------------------------------------- ONNX
def _onnx(file: Path, prefix: str | None, only: bool) -> dict[str, np.ndarray]:
    onnx = _need("onnx", "onnx", "an ONNX model")
    from onnx import numpy_helper
    try:
        model = onnx.load(str(file), load_external_data=False)
    except Exception as exc:  # protobuf's DecodeError and friends
        raise WeightFileError(f"{file.name} is not an ONNX model ({_first_line(exc)})",
                              fix="check that the file is complete") from None
    if not model.ir_version or not model.HasField("graph"):
        _expect(file, False, "an ONNX model")
    base = file.resolve().parent
    initializers = {}
    for tensor in model.graph.initializer:
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            _check_external(tensor, base, file)
        try:
            initializers[tensor.name] = numpy_helper.to_array(tensor, base_dir=str(base))
        except Exception as exc:
            raise WeightFileError(f"{file.name}: initializer {tensor.name!r} cannot be read ({_first_line(exc)})",
                                  fix="check the model and its external data files") from None
    initializers = {k: _numeric(k, v, file) for k, v in initializers.items()}
    weighted = [n for n in model.graph.node if any(i in initializers for i in n.input)]
    if only and len(weighted) == 1:
        return _node_inputs(weighted[0], initializers, model, file)
    if prefix is None:
        return initializers
    node = next((n for n in weighted if n.name == prefix), None)
    if node is not None:
        return _node_inputs(node, initializers, model, file)
    try:
        return _select(initializers, prefix, file)
    except WeightFileError:
        nodes = [n.name for n in weighted if n.name]
        raise WeightFileError(f"{file.name} has no node named {prefix!r} and no initializers under that prefix",
                              expected=f"one of the nodes {_listed(nodes)}",
                              fix="pick the node's name from that list") from None


def _check_external(tensor, base: Path, file: Path) -> None:
    """External data must sit beside the model: a location may not climb out of its directory."""
    location = next((e.value for e in tensor.external_data if e.key == "location"), "")
    target = (base / location).resolve()
    if not location or Path(location).is_absolute() or base not in target.parents:
        raise WeightFileError(f"{file.name}: initializer {tensor.name!r} points outside the model's directory "
                              f"({location!r})", fix="keep external data files beside the model")


def _node_inputs(node, initializers: Mapping, model, file: Path) -> dict[str, np.ndarray]:
    """A node's constant inputs, named as its operator names its inputs (``Conv``: ``X, W, B``)."""
    from onnx import defs
    domain = "" if node.domain == "ai.onnx" else node.domain
    opset = next((o.version for o in model.opset_import if ("" if o.domain == "ai.onnx" else o.domain) == domain),
                 None)
    try:
        schema = defs.get_schema(node.op_type, opset or defs.onnx_opset_version(), node.domain)
    except Exception:
        raise WeightFileError(f"{file.name}: the operator {node.op_type!r} of node {node.name!r} is unknown to onnx",
                              fix="select its initializers by their own names") from None
    formal = [i.name for i in schema.inputs]
    out = {}
    for j, name in enumerate(node.input):
        if name in initializers:
            label = formal[min(j, len(formal) - 1)] if formal else str(j)
            if j >= len(formal):  # the last formal input is variadic
                label = f"{label}{j - len(formal) + 1}"
            out[label] = initializers[name]
    return out
