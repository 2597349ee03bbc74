"""Attention layers: Keras ``MultiHeadAttention``, PyTorch ``nn.MultiheadAttention`` and
``nn.TransformerEncoderLayer``."""

from __future__ import annotations

from ..errors import ConfigError
from ..layer import WholeLayer
from ..ops.attention import MultiHeadAttention, TransformerEncoderLayer
from .base import Call, Dialect, Spec, as_bool, as_int, describe
from .keras import COMMON, COMMON2, DIALECT, DIALECT2, IGNORED
from .torch import DIALECT as TORCH


def _keras_mha(framework: str):
    def build(call: Call, a: dict) -> WholeLayer:
        heads = as_int(a["num_heads"], "num_heads", minimum=1, layer="MultiHeadAttention")
        key_dim = as_int(a["key_dim"], "key_dim", minimum=1, layer="MultiHeadAttention")
        value_dim = key_dim if a["value_dim"] is None else as_int(a["value_dim"], "value_dim", minimum=1)
        out = a["output_shape"]
        if isinstance(out, tuple) and len(out) == 1:
            out = out[0]
        if out is not None and (isinstance(out, bool) or not isinstance(out, int)):
            raise ConfigError(f"MultiHeadAttention output_shape={describe(out)} is not supported",
                              expected="an integer (the last dim of the output) or None")
        if a["attention_axes"] is not None:
            raise ConfigError("MultiHeadAttention with attention_axes is not supported yet",
                              fix="leave attention_axes=None (attention over the steps axis)")
        scores = as_bool(call.applied_kwargs.get("return_attention_scores", False), "return_attention_scores")
        op = MultiHeadAttention(heads, key_dim, value_dim, out, as_bool(a["use_bias"], "use_bias"),
                                scores="heads" if scores else "none")
        return WholeLayer(framework, "MultiHeadAttention", call.text, op, name="multi_head_attention",
                          multi_input=True)

    build.takes_call_kwargs = True
    common = COMMON2 if framework == "keras2" else COMMON
    params = ("num_heads", "key_dim", "value_dim", "dropout", "use_bias", "output_shape", "attention_axes") + \
        IGNORED[1:] + ("use_gate", "seed", "sliding_window", "flash_attention") * (framework == "keras") + common
    defaults = {"value_dim": None, "dropout": 0.0, "use_bias": True, "output_shape": None, "attention_axes": None,
                "use_gate": False, "seed": None, "sliding_window": None, "flash_attention": None,
                **{k: None for k in IGNORED + common}}
    return Spec("MultiHeadAttention", params, defaults, build)


def _torch_mha(call: Call, a: dict) -> WholeLayer:
    embed = as_int(a["embed_dim"], "embed_dim", minimum=1, layer="MultiheadAttention")
    heads = as_int(a["num_heads"], "num_heads", minimum=1, layer="MultiheadAttention")
    if embed % heads:
        raise ConfigError(f"embed_dim must be divisible by num_heads (embed_dim={embed}, num_heads={heads})")
    kdim = embed if a["kdim"] is None else as_int(a["kdim"], "kdim", minimum=1)
    vdim = embed if a["vdim"] is None else as_int(a["vdim"], "vdim", minimum=1)
    need = as_bool(call.applied_kwargs.get("need_weights", True), "need_weights")
    average = as_bool(call.applied_kwargs.get("average_attn_weights", True), "average_attn_weights")
    op = MultiHeadAttention(heads, embed // heads, embed // heads, embed, as_bool(a["bias"], "bias"),
                            fixed_dims=(embed, kdim, vdim), batch_first=as_bool(a["batch_first"], "batch_first"),
                            scores="none" if not need else "mean" if average else "heads",
                            bias_kv=as_bool(a["add_bias_kv"], "add_bias_kv"),
                            zero_attn=as_bool(a["add_zero_attn"], "add_zero_attn"), query_key_value=True)
    notes = () if need else ("need_weights=False: the second output is None",)
    return WholeLayer("torch", "MultiheadAttention", call.text, op, notes=notes, name="multiheadattention",
                      multi_input=True)


_torch_mha.takes_call_kwargs = True


def _torch_encoder(call: Call, a: dict) -> WholeLayer:
    d_model = as_int(a["d_model"], "d_model", minimum=1, layer="TransformerEncoderLayer")
    nhead = as_int(a["nhead"], "nhead", minimum=1, layer="TransformerEncoderLayer")
    if d_model % nhead:
        raise ConfigError(f"embed_dim must be divisible by num_heads (d_model={d_model}, nhead={nhead})")
    op = TransformerEncoderLayer(d_model, nhead, as_int(a["dim_feedforward"], "dim_feedforward", minimum=1),
                                 as_bool(a["bias"], "bias"), as_bool(a["batch_first"], "batch_first"))
    return WholeLayer("torch", "TransformerEncoderLayer", call.text, op, name="transformerencoderlayer")


TORCH.register(Spec("MultiheadAttention", ("embed_dim", "num_heads", "dropout", "bias", "add_bias_kv",
                                           "add_zero_attn", "kdim", "vdim", "batch_first", "device", "dtype"),
                    {"dropout": 0.0, "bias": True, "add_bias_kv": False, "add_zero_attn": False, "kdim": None,
                     "vdim": None, "batch_first": False, "device": None, "dtype": None}, _torch_mha))
TORCH.register(Spec("TransformerEncoderLayer", ("d_model", "nhead", "dim_feedforward", "dropout", "activation",
                                                "layer_norm_eps", "batch_first", "norm_first", "bias", "device",
                                                "dtype"),
                    {"dim_feedforward": 2048, "dropout": 0.1, "activation": "relu", "layer_norm_eps": 1e-5,
                     "batch_first": False, "norm_first": False, "bias": True, "device": None, "dtype": None},
                    _torch_encoder))


def _register(dialect: Dialect) -> None:
    dialect.register(_keras_mha(dialect.name))


_register(DIALECT)
_register(DIALECT2)
