"""Multi-head attention and the Transformer encoder layer built on it."""

from __future__ import annotations

from dataclasses import dataclass

from ..dims import Dim, format_shape
from ..errors import ShapeMismatchError
from .base import ShapeResult


def _same(a: Dim, b: Dim) -> bool:
    return a is None or b is None or a == b


@dataclass(frozen=True)
class MultiHeadAttention:
    """``softmax(Q K^T / sqrt(d)) V`` over ``heads`` heads: query ``(B, Tq, dq)``, key/value
    ``(B, Tk, dk)``/``(B, Tk, dv)`` -> ``(B, Tq, out)``; scores ``(B, heads, Tq, Tk)``.

    Parameters: the four projections, ``q_in*H*kd + k_in*H*kd + v_in*H*vd + H*vd*out`` plus their
    biases ``2*H*kd + H*vd + out``. Keras gives ``key_dim``/``value_dim`` per head and builds the
    input sizes from the tensors; PyTorch fixes ``embed_dim = H*kd`` and ``kdim``/``vdim``.
    """

    heads: int
    key_dim: int
    value_dim: int
    output_dim: int | None = None  # None: the query's last dim
    bias: bool = True
    fixed_dims: tuple[int, int, int] | None = None  # PyTorch: (embed_dim, kdim, vdim) the inputs must have
    batch_first: bool = True
    scores: str = "none"  # "none" | "heads" (B, H, Tq, Tk) | "mean" (B, Tq, Tk, averaged over heads)
    bias_kv: bool = False  # PyTorch add_bias_kv: learned key/value rows appended (2*E parameters)
    zero_attn: bool = False  # PyTorch add_zero_attn: a zero key/value row appended
    query_key_value: bool = False  # tensors come as (query, key, value) (PyTorch), not (query, value, key)
    expects = "query, value (and key) of shape (batch, steps, features)"

    def apply(self, shapes: tuple[tuple[Dim, ...], ...]) -> ShapeResult:
        if not 1 <= len(shapes) <= 3:
            raise ShapeMismatchError(f"attention received {len(shapes)} tensors",
                                     expected="query, value and optionally key")
        query = shapes[0]
        if self.query_key_value:
            if len(shapes) != 3:
                raise ShapeMismatchError(f"attention received {len(shapes)} tensors", expected="query, key, value")
            key, value = shapes[1], shapes[2]
        else:
            value = shapes[1] if len(shapes) > 1 else query
            key = shapes[2] if len(shapes) > 2 else value
        rank = len(query)
        if rank not in (2, 3) or rank == 2 and self.fixed_dims is None or any(len(s) != rank for s in (key, value)):
            raise ShapeMismatchError(f"received query {format_shape(query)}, key {format_shape(key)}, value "
                                     f"{format_shape(value)}", expected="3-D tensors (batch, steps, features)")
        if rank == 3 and not self.batch_first:  # PyTorch's default layout: (steps, batch, features)
            query, key, value = ((s[1], s[0], s[2]) for s in (query, key, value))
        steps = (lambda s: s[0]) if rank == 2 else (lambda s: s[1])
        batch = () if rank == 2 else (query[0],)
        if rank == 3 and not (_same(query[0], key[0]) and _same(key[0], value[0])):
            raise ShapeMismatchError(f"batch sizes differ: query {query[0]}, key {key[0]}, value {value[0]}",
                                     expected="one batch size")
        if not _same(steps(key), steps(value)):
            raise ShapeMismatchError(f"key has {steps(key)} steps but value has {steps(value)}",
                                     expected="as many key steps as value steps")
        dims = (query[-1], key[-1], value[-1])
        if self.fixed_dims is not None:
            for role, got, want in zip(("query", "key", "value"), dims, self.fixed_dims):
                if not _same(got, want):
                    raise ShapeMismatchError(f"the {role} has {got} features but the layer takes {want}",
                                             expected=f"a last dim of {want}")
            dims = self.fixed_dims
        if any(d is None for d in dims):
            raise ShapeMismatchError("an unknown feature dim", expected="known feature dims to build the weights")
        q_in, k_in, v_in = dims
        out_dim = self.output_dim or q_in
        hk, hv = self.heads * self.key_dim, self.heads * self.value_dim
        params = q_in * hk + k_in * hk + v_in * hv + hv * out_dim
        if self.bias:
            params += 2 * hk + hv + out_dim
        params += 2 * hk if self.bias_kv else 0
        tq, tk = steps(query), steps(key)
        tk = None if tk is None else tk + self.bias_kv + self.zero_attn
        out = (*batch, tq, out_dim) if self.batch_first or rank == 2 else (tq, *batch, out_dim)
        outputs, names = [out], ["output"]
        if self.scores == "heads":
            outputs.append((*batch, self.heads, tq, tk))
            names.append("attention_scores")
        elif self.scores == "mean":
            outputs.append((*batch, tq, tk))
            names.append("attention_weights")
        return ShapeResult(tuple(outputs), tuple(names), params=params)


@dataclass(frozen=True)
class TransformerEncoderLayer:
    """Self-attention then a feed-forward block, each with a residual and a LayerNorm: the shape is
    kept. Parameters ``4*E*E + 4*E`` (attention) ``+ 2*E*F + F + E`` (feed-forward) ``+ 4*E`` (norms),
    without the biases when ``bias=False``."""

    d_model: int
    nhead: int
    dim_feedforward: int
    bias: bool = True
    batch_first: bool = False
    expects = "(steps, batch, d_model), or (batch, steps, d_model) with batch_first"

    def apply(self, shapes: tuple[tuple[Dim, ...], ...]) -> ShapeResult:
        (shape,) = shapes
        if len(shape) not in (2, 3):
            raise ShapeMismatchError(f"received a {len(shape)}-D input {format_shape(shape)}",
                                     expected=f"{self.expects}, or (steps, d_model) unbatched")
        if not _same(shape[-1], self.d_model):
            raise ShapeMismatchError(f"the input has {shape[-1]} features but d_model is {self.d_model}",
                                     expected=f"a last dim of {self.d_model}")
        e, f = self.d_model, self.dim_feedforward
        params = 4 * e * e + 2 * e * f + 2 * e + (4 * e + f + e + 2 * e if self.bias else 0)
        return ShapeResult((tuple(shape),), params=params)
