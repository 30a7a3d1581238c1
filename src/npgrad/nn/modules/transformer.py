"""Attention and Transformer layers, named and laid out as in PyTorch.

``MultiheadAttention`` projects query, key and value, splits the features into heads, runs
scaled dot-product attention per head (one fused op, ``npgrad.ops.attention``) and projects the
heads' outputs back. The encoder and decoder layers are the post-norm (default) or pre-norm
blocks of "Attention Is All You Need" around it. Parameter names match PyTorch's, so a
``state_dict`` moves between the two unchanged.

Masks follow PyTorch: ``attn_mask`` is (L, S) or (N * num_heads, L, S); a boolean one is True
where a query may *not* attend, a float one is added to the scores. ``key_padding_mask`` is
(N, S), True (or -inf) at padding keys.
"""

import copy
import math

import numpy

from npgrad.backend import get_default_dtype
from npgrad.errors import ShapeError
from npgrad.nn import functional as F
from npgrad.nn import init
from npgrad.nn.modules.container import ModuleList
from npgrad.nn.modules.layers import Dropout
from npgrad.nn.modules.linear import Linear
from npgrad.nn.modules.module import Module
from npgrad.nn.modules.normalization import LayerNorm
from npgrad.nn.parameter import Parameter
from npgrad.tensor import Tensor, _array_of, cat, empty, tensor, zeros


class MultiheadAttention(Module):
    """Attention over ``num_heads`` heads of ``embed_dim // num_heads`` features each.

    Matches ``torch.nn.MultiheadAttention``: inputs are (L, N, E), or (N, L, E) with
    ``batch_first=True``, or unbatched (L, E); ``forward`` returns ``(output, weights)``, the
    weights averaged over the heads (N, L, S) unless ``average_attn_weights=False`` (N, H, L, S),
    or None with ``need_weights=False`` (faster: one fused op, no weights kept).

    >>> import npgrad
    >>> attention = npgrad.nn.MultiheadAttention(16, 4, batch_first=True)
    >>> x = npgrad.ones(2, 5, 16)
    >>> out, weights = attention(x, x, x)
    >>> out.shape, weights.shape
    ((2, 5, 16), (2, 5, 5))
    """

    def __init__(
        self,
        embed_dim,
        num_heads,
        dropout=0.0,
        bias=True,
        add_bias_kv=False,
        add_zero_attn=False,
        kdim=None,
        vdim=None,
        batch_first=False,
        device=None,
        dtype=None,
    ):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(
                f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} "
                f"and num_heads={num_heads} instead"
            )
        if embed_dim % num_heads:
            raise ValueError(
                f"embed_dim must be divisible by num_heads (got {embed_dim} and {num_heads})"
            )
        self.embed_dim, self.num_heads, self.dropout = embed_dim, num_heads, dropout
        self.head_dim = embed_dim // num_heads
        self.kdim = embed_dim if kdim is None else kdim
        self.vdim = embed_dim if vdim is None else vdim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.batch_first = batch_first
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(empty(3 * embed_dim, embed_dim, dtype=dtype))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = Parameter(empty(embed_dim, embed_dim, dtype=dtype))
            self.k_proj_weight = Parameter(empty(embed_dim, self.kdim, dtype=dtype))
            self.v_proj_weight = Parameter(empty(embed_dim, self.vdim, dtype=dtype))
            self.register_parameter("in_proj_weight", None)
        in_bias = Parameter(empty(3 * embed_dim, dtype=dtype)) if bias else None
        self.register_parameter("in_proj_bias", in_bias)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, dtype=dtype)
        if add_bias_kv:
            self.bias_k = Parameter(empty(1, 1, embed_dim, dtype=dtype))
            self.bias_v = Parameter(empty(1, 1, embed_dim, dtype=dtype))
        else:
            self.register_parameter("bias_k", None)
            self.register_parameter("bias_v", None)
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self):
        """PyTorch's: Xavier-uniform projections, zero biases, Xavier-normal bias_k / bias_v."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for weight in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def _projections(self, query, key, value):
        """q, k, v = x W^T + b for each; one GEMM for all three in self-attention."""
        e = self.embed_dim
        bias = self.in_proj_bias
        biases = (None, None, None) if bias is None else (bias[:e], bias[e : 2 * e], bias[2 * e :])
        if self._qkv_same_embed_dim:
            if query is key and key is value:
                return F.linear(query, self.in_proj_weight, bias).chunk(3, dim=-1)
            weights = (
                self.in_proj_weight[:e],
                self.in_proj_weight[e : 2 * e],
                self.in_proj_weight[2 * e :],
            )
        else:
            weights = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        return tuple(
            F.linear(x, w, b) for x, w, b in zip((query, key, value), weights, biases, strict=True)
        )

    def forward(
        self,
        query,
        key,
        value,
        key_padding_mask=None,
        need_weights=True,
        attn_mask=None,
        average_attn_weights=True,
        is_causal=False,
    ):
        batched = query.ndim == 3
        shared = query is key and key is value  # self-attention: one projection GEMM
        if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
            raise ShapeError(
                f"MultiheadAttention: query {query.shape}, key {key.shape} and value "
                f"{value.shape} must all be 3-D (batched) or all 2-D (unbatched)"
            )
        if batched and self.batch_first:  # work sequence first, (L, N, E), as PyTorch does
            query = query.transpose(0, 1)
            key, value = (query, query) if shared else (key.transpose(0, 1), value.transpose(0, 1))
        elif not batched:
            query = query.unsqueeze(1)
            key, value = (query, query) if shared else (key.unsqueeze(1), value.unsqueeze(1))
            if key_padding_mask is not None:
                key_padding_mask = numpy.asarray(_array_of(key_padding_mask))[None]
        length, batch, features = query.shape
        source = key.shape[0]
        if (
            features != self.embed_dim
            or key.shape[2] != self.kdim
            or value.shape[2] != self.vdim
            or key.shape[:2] != value.shape[:2]
            or key.shape[1] != batch
        ):
            raise ShapeError(
                f"MultiheadAttention: query {tuple(query.shape)}, key {tuple(key.shape)} and "
                f"value {tuple(value.shape)} (sequence first) do not fit embed_dim="
                f"{self.embed_dim}, kdim={self.kdim}, vdim={self.vdim}"
            )
        if is_causal and attn_mask is None:
            raise ValueError(
                "MultiheadAttention: is_causal is a hint that attn_mask is the causal mask; "
                "pass the mask too (nn.Transformer.generate_square_subsequent_mask)"
            )
        dtype = query.dtype
        mask = self._mask(attn_mask, key_padding_mask, batch, length, source, dtype)
        q, k, v = self._projections(query, key, value)
        if self.bias_k is not None:  # one more key and value, learned, that every query sees
            k = cat([k, self.bias_k.expand(1, batch, self.embed_dim)])
            v = cat([v, self.bias_v.expand(1, batch, self.embed_dim)])
            mask = _pad_last(mask, 1)
        # (L, N, E) -> (N, H, L, head_dim)
        heads = self.num_heads
        q, k, v = (
            x.reshape(x.shape[0], batch, heads, self.head_dim).permute(1, 2, 0, 3)
            for x in (q, k, v)
        )
        if self.add_zero_attn:  # and one more of zeros
            k = cat([k, zeros(batch, heads, 1, self.head_dim, dtype=k.dtype)], dim=2)
            v = cat([v, zeros(batch, heads, 1, self.head_dim, dtype=v.dtype)], dim=2)
            mask = _pad_last(mask, 1)
        dropout_p = self.dropout if self.training else 0.0
        if need_weights:
            scores = (q * (1.0 / math.sqrt(self.head_dim))) @ k.transpose(-2, -1)
            if mask is not None:
                scores = scores + Tensor._wrap(mask)
            weights = F.dropout(scores.softmax(-1), dropout_p)
            out = weights @ v
        else:
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout_p)
            weights = None
        # (N, H, L, head_dim) -> (L, N, E), then the output projection
        out = self.out_proj(out.permute(2, 0, 1, 3).reshape(length, batch, self.embed_dim))
        if weights is not None and average_attn_weights:
            weights = weights.mean(dim=1)
        if not batched:
            out = out.squeeze(1)
            weights = None if weights is None else weights.squeeze(0)
        elif self.batch_first:
            out = out.transpose(0, 1)
        return out, weights

    def _mask(self, attn_mask, key_padding_mask, batch, length, source, dtype):
        """attn_mask and key_padding_mask as one additive array of (N or 1, H or 1, L, S)."""
        mask = _module_mask(attn_mask, dtype, "attn_mask")
        if mask is not None:
            if mask.shape == (length, source):
                mask = mask[None, None]
            elif mask.shape == (batch * self.num_heads, length, source):
                mask = mask.reshape(batch, self.num_heads, length, source)
            else:
                raise ShapeError(
                    f"MultiheadAttention: attn_mask of shape {mask.shape} should be "
                    f"({length}, {source}) or ({batch * self.num_heads}, {length}, {source})"
                )
        padding = _module_mask(key_padding_mask, dtype, "key_padding_mask")
        if padding is not None:
            if padding.shape != (batch, source):
                raise ShapeError(
                    f"MultiheadAttention: key_padding_mask of shape {padding.shape} should be "
                    f"({batch}, {source}) (batch, source length)"
                )
            padding = padding[:, None, None, :]
            mask = padding if mask is None else mask + padding
        return mask

    def extra_repr(self):
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, dropout={self.dropout}"


def _module_mask(mask, dtype, name):
    """PyTorch's module masks (bool: True = masked out; float: added) -> an additive array."""
    if mask is None:
        return None
    return F._additive_mask(mask, dtype, f"MultiheadAttention: {name}", attend=False)


def _pad_last(mask, count):
    """A mask with ``count`` more keys that every query may attend (zeros appended)."""
    if mask is None:
        return None
    return numpy.concatenate([mask, numpy.zeros((*mask.shape[:-1], count), mask.dtype)], axis=-1)


def _activation(activation):
    """'relu', 'gelu' or a callable (a function or a module), as PyTorch's layers take it."""
    if callable(activation):
        return activation
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    raise ValueError(f"activation should be relu/gelu, not {activation}")


class _Layer(Module):
    """What the encoder and decoder layers share: self-attention, the feed-forward block, norms.

    A decoder layer (``cross_attention = True``) also attends to the encoder's output and has a
    third norm and dropout. Submodules are created in PyTorch's order, so ``state_dict`` keys
    line up with PyTorch's.
    """

    cross_attention = False

    def __init__(
        self,
        d_model,
        nhead,
        dim_feedforward=2048,
        dropout=0.1,
        activation="relu",
        layer_norm_eps=1e-5,
        batch_first=False,
        norm_first=False,
        bias=True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        attention = dict(dropout=dropout, bias=bias, batch_first=batch_first, dtype=dtype)
        self.self_attn = MultiheadAttention(d_model, nhead, **attention)
        if self.cross_attention:
            self.multihead_attn = MultiheadAttention(d_model, nhead, **attention)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = norm_first
        blocks = 3 if self.cross_attention else 2
        for k in range(1, blocks + 1):
            setattr(
                self, f"norm{k}", LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
            )
        for k in range(1, blocks + 1):
            setattr(self, f"dropout{k}", Dropout(dropout))
        self.activation = _activation(activation)

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal=False):
        return self.dropout1(
            _attend_to(self.self_attn, x, x, attn_mask, key_padding_mask, is_causal)
        )

    def _ff_block(self, x):
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return (self.dropout3 if self.cross_attention else self.dropout2)(x)


def _attend_to(attention, x, memory, attn_mask, key_padding_mask, is_causal):
    """``attention`` from x to memory, without the weights (the fused attention op)."""
    return attention(
        x,
        memory,
        memory,
        attn_mask=attn_mask,
        key_padding_mask=key_padding_mask,
        need_weights=False,
        is_causal=is_causal,
    )[0]


class TransformerEncoderLayer(_Layer):
    """Self-attention and a feed-forward block, each with a residual connection and LayerNorm.

    Matches ``torch.nn.TransformerEncoderLayer``: post-norm by default
    (x = norm1(x + attention(x)); x = norm2(x + ff(x))), pre-norm with ``norm_first=True``.

    >>> import npgrad
    >>> layer = npgrad.nn.TransformerEncoderLayer(d_model=16, nhead=4, batch_first=True)
    >>> layer(npgrad.ones(2, 7, 16)).shape
    (2, 7, 16)
    """

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._ff_block(self.norm2(x))
        x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._ff_block(x))


class TransformerDecoderLayer(_Layer):
    """Self-attention, attention over the encoder's output (memory), and a feed-forward block.

    Matches ``torch.nn.TransformerDecoderLayer`` (post-norm by default, ``norm_first=True`` for
    pre-norm).
    """

    cross_attention = True

    def forward(
        self,
        tgt,
        memory,
        tgt_mask=None,
        memory_mask=None,
        tgt_key_padding_mask=None,
        memory_key_padding_mask=None,
        tgt_is_causal=False,
        memory_is_causal=False,
    ):
        x = tgt
        memory_args = (memory_mask, memory_key_padding_mask, memory_is_causal)
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, *memory_args)
            return x + self._ff_block(self.norm3(x))
        x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
        x = self.norm2(x + self._mha_block(x, memory, *memory_args))
        return self.norm3(x + self._ff_block(x))

    def _mha_block(self, x, memory, attn_mask, key_padding_mask, is_causal=False):
        return self.dropout2(
            _attend_to(self.multihead_attn, x, memory, attn_mask, key_padding_mask, is_causal)
        )


def _clones(layer, count):
    return ModuleList([copy.deepcopy(layer) for _ in range(count)])


class TransformerEncoder(Module):
    """``num_layers`` copies of an encoder layer, then an optional final norm.

    Matches ``torch.nn.TransformerEncoder`` (the layers are deep copies of ``encoder_layer``).
    """

    def __init__(
        self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True, mask_check=True
    ):
        super().__init__()
        self.layers = _clones(encoder_layer, num_layers)
        self.num_layers, self.norm = num_layers, norm

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        out = src
        for layer in self.layers:
            out = layer(
                out,
                src_mask=mask,
                src_key_padding_mask=src_key_padding_mask,
                is_causal=bool(is_causal),
            )
        return out if self.norm is None else self.norm(out)


class TransformerDecoder(Module):
    """``num_layers`` copies of a decoder layer, then an optional final norm.

    Matches ``torch.nn.TransformerDecoder``.
    """

    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__()
        self.layers = _clones(decoder_layer, num_layers)
        self.num_layers, self.norm = num_layers, norm

    def forward(
        self,
        tgt,
        memory,
        tgt_mask=None,
        memory_mask=None,
        tgt_key_padding_mask=None,
        memory_key_padding_mask=None,
        tgt_is_causal=None,
        memory_is_causal=False,
    ):
        out = tgt
        for layer in self.layers:
            out = layer(
                out,
                memory,
                tgt_mask=tgt_mask,
                memory_mask=memory_mask,
                tgt_key_padding_mask=tgt_key_padding_mask,
                memory_key_padding_mask=memory_key_padding_mask,
                tgt_is_causal=bool(tgt_is_causal),
                memory_is_causal=memory_is_causal,
            )
        return out if self.norm is None else self.norm(out)


class Transformer(Module):
    """The encoder-decoder Transformer of "Attention Is All You Need" (Vaswani et al., 2017).

    Matches ``torch.nn.Transformer``: an encoder and a decoder stack, each with a final LayerNorm;
    every weight matrix starts Xavier-uniform. ``forward(src, tgt)`` returns the decoder output.
    """

    def __init__(
        self,
        d_model=512,
        nhead=8,
        num_encoder_layers=6,
        num_decoder_layers=6,
        dim_feedforward=2048,
        dropout=0.1,
        activation="relu",
        custom_encoder=None,
        custom_decoder=None,
        layer_norm_eps=1e-5,
        batch_first=False,
        norm_first=False,
        bias=True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        layer_args = dict(
            dim_feedforward=dim_feedforward,
            dropout=dropout,
            activation=activation,
            layer_norm_eps=layer_norm_eps,
            batch_first=batch_first,
            norm_first=norm_first,
            bias=bias,
            dtype=dtype,
        )
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            self.encoder = TransformerEncoder(
                TransformerEncoderLayer(d_model, nhead, **layer_args),
                num_encoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype),
            )
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            self.decoder = TransformerDecoder(
                TransformerDecoderLayer(d_model, nhead, **layer_args),
                num_decoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype),
            )
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first
        for parameter in self.parameters():
            if parameter.ndim > 1:
                init.xavier_uniform_(parameter)

    def forward(
        self,
        src,
        tgt,
        src_mask=None,
        tgt_mask=None,
        memory_mask=None,
        src_key_padding_mask=None,
        tgt_key_padding_mask=None,
        memory_key_padding_mask=None,
        src_is_causal=None,
        tgt_is_causal=None,
        memory_is_causal=False,
    ):
        batch_axis = 0 if self.batch_first else 1
        if src.ndim == 3 and src.shape[batch_axis] != tgt.shape[batch_axis]:
            raise ShapeError(
                f"Transformer: the batch number of src {src.shape} and tgt {tgt.shape} must be "
                "equal"
            )
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise ShapeError(
                f"Transformer: the feature number of src {src.shape} and tgt {tgt.shape} must be "
                f"equal to d_model={self.d_model}"
            )
        memory = self.encoder(
            src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal
        )
        return self.decoder(
            tgt,
            memory,
            tgt_mask=tgt_mask,
            memory_mask=memory_mask,
            tgt_key_padding_mask=tgt_key_padding_mask,
            memory_key_padding_mask=memory_key_padding_mask,
            tgt_is_causal=tgt_is_causal,
            memory_is_causal=memory_is_causal,
        )

    @staticmethod
    def generate_square_subsequent_mask(sz, device=None, dtype=None):
        """A float (sz, sz) mask: 0 on and below the diagonal, -inf above (no peeking ahead)."""
        dtype = get_default_dtype() if dtype is None else dtype
        return tensor(numpy.triu(numpy.full((sz, sz), -numpy.inf), k=1), dtype=dtype)
