"""MultiheadAttention and the Transformer layers against PyTorch; masks, errors, training."""

import copy

import numpy as np
import pytest
from helpers import assert_param_grads_match, make_inputs, needs_torch, torch

import npgrad
from npgrad import nn
from npgrad.errors import ShapeError


def _pair(kind, *args, **kwargs):
    """The same layer in torch and npgrad, float64, npgrad holding torch's weights."""
    torch.manual_seed(0)
    theirs = getattr(torch.nn, kind)(*args, **kwargs).double()
    ours = getattr(nn, kind)(*args, **kwargs).double()
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


def _compare(ours_out, theirs_out, ours_in, theirs_in, ours, theirs, atol=1e-10):
    """Outputs equal; then gradients of a random projection w.r.t. inputs and parameters."""
    total_ours, total_theirs = 0, 0
    for k, (mine, reference) in enumerate(zip(ours_out, theirs_out, strict=True)):
        if reference is None:
            assert mine is None
            continue
        np.testing.assert_allclose(mine.numpy(), reference.detach().numpy(), atol=atol)
        projection = np.random.default_rng(k).standard_normal(mine.shape)
        total_ours = total_ours + (mine * npgrad.tensor(projection)).sum()
        total_theirs = total_theirs + (reference * torch.tensor(projection)).sum()
    total_ours.backward()
    total_theirs.backward()
    for mine, reference in zip(ours_in, theirs_in, strict=True):
        if reference.grad is not None:
            np.testing.assert_allclose(mine.grad.numpy(), reference.grad.numpy(), atol=atol)
    assert_param_grads_match(ours, theirs, atol=atol)


MHA_CASES = [
    # (constructor kwargs, forward kwargs, query / key lengths, batch)
    ({}, {}, (4, 4), 2),
    ({"batch_first": True}, {}, (4, 6), 2),
    ({}, {"need_weights": False}, (4, 6), 2),
    ({}, {"average_attn_weights": False}, (3, 5), 2),
    ({"kdim": 3, "vdim": 5}, {}, (4, 6), 2),
    ({"bias": False}, {}, (4, 4), 2),
    ({"add_bias_kv": True}, {"need_weights": False}, (4, 5), 2),
    ({"add_zero_attn": True}, {}, (4, 5), 2),
    ({"add_bias_kv": True, "add_zero_attn": True}, {"mask": "bool"}, (4, 5), 2),
    ({}, {"mask": "bool", "padding": True}, (4, 6), 3),
    ({}, {"mask": "float3d", "need_weights": False}, (4, 6), 3),
    ({"batch_first": True}, {"padding": True, "need_weights": False}, (4, 6), 3),
    ({}, {"mask": "causal", "is_causal": True}, (5, 5), 2),
    ({}, {}, (4, 6), None),  # unbatched
    ({}, {"padding": True, "need_weights": False}, (4, 6), None),
]


@needs_torch
@pytest.mark.parametrize("config, options, lengths, batch", MHA_CASES, ids=str)
def test_multihead_attention_matches_torch(config, options, lengths, batch):
    options = dict(options)
    heads, embed = 2, 8
    ours, theirs = _pair("MultiheadAttention", embed, heads, **config)
    kdim, vdim = config.get("kdim", embed), config.get("vdim", embed)
    length, source = lengths
    self_attention = length == source and kdim == embed and vdim == embed
    if batch is None:
        shapes = [(length, embed), (source, kdim), (source, vdim)]
    elif config.get("batch_first"):
        shapes = [(batch, length, embed), (batch, source, kdim), (batch, source, vdim)]
    else:
        shapes = [(length, batch, embed), (source, batch, kdim), (source, batch, vdim)]
    arrays = make_inputs(shapes)
    if self_attention:
        arrays = [arrays[0]] * 3  # query is key is value: the fused projection path
    ours_in = [npgrad.tensor(a, requires_grad=True) for a in arrays[: 1 if self_attention else 3]]
    theirs_in = [torch.tensor(a, requires_grad=True) for a in arrays[: 1 if self_attention else 3]]
    ours_args = ours_in * 3 if self_attention else ours_in
    theirs_args = theirs_in * 3 if self_attention else theirs_in

    rng = np.random.default_rng(5)
    kwargs_ours, kwargs_theirs = {}, {}
    mask_kind = options.pop("mask", None)
    if mask_kind:
        if mask_kind == "bool":
            mask = rng.random((length, source)) < 0.3
            mask[:, 0] = False
        elif mask_kind == "float3d":
            mask = rng.standard_normal(((batch or 1) * heads, length, source))
        else:
            mask = np.triu(np.ones((length, source), dtype=bool), k=1)
        kwargs_ours["attn_mask"], kwargs_theirs["attn_mask"] = (
            npgrad.tensor(mask),
            torch.tensor(mask),
        )
    if options.pop("padding", False):
        padding = np.zeros((batch or 1, source), dtype=bool)
        padding[-1, -2:] = True  # the last sequence is two keys shorter
        if batch is None:
            padding = padding[0]
        kwargs_ours["key_padding_mask"] = npgrad.tensor(padding)
        kwargs_theirs["key_padding_mask"] = torch.tensor(padding)
    out_ours = ours(*ours_args, **kwargs_ours, **options)
    out_theirs = theirs(*theirs_args, **kwargs_theirs, **options)
    assert out_ours[0].shape == tuple(out_theirs[0].shape)
    _compare(out_ours, out_theirs, ours_in, theirs_in, ours, theirs)


@needs_torch
def test_multihead_attention_state_dict_and_init_match_torch():
    torch.manual_seed(0)
    theirs = torch.nn.MultiheadAttention(8, 2, kdim=3, vdim=5, add_bias_kv=True)
    ours = nn.MultiheadAttention(8, 2, kdim=3, vdim=5, add_bias_kv=True)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for name, param in ours.named_parameters():
        assert param.shape == tuple(dict(theirs.named_parameters())[name].shape), name
    plain = nn.MultiheadAttention(8, 2)
    assert np.all(plain.in_proj_bias.numpy() == 0) and np.all(plain.out_proj.bias.numpy() == 0)
    bound = np.sqrt(6 / (8 + 24))  # Xavier-uniform over the (24, 8) in-projection
    assert np.abs(plain.in_proj_weight.numpy()).max() <= bound


@pytest.mark.parametrize("need_weights", [True, False])
def test_multihead_attention_keeps_float32(need_weights):
    """No float64 scale sneaks in: float32 in, float32 out (as in PyTorch)."""
    attention = nn.MultiheadAttention(8, 2, dropout=0.1)
    x = npgrad.randn(3, 2, 8)
    out, weights = attention(x, x, x, need_weights=need_weights)
    assert out.dtype == npgrad.float32
    assert weights is None or weights.dtype == npgrad.float32


def test_multihead_attention_errors_name_the_layer_and_shapes():
    with pytest.raises(ValueError, match="divisible by num_heads"):
        nn.MultiheadAttention(10, 3)
    attention = nn.MultiheadAttention(8, 2)
    x = npgrad.ones(4, 2, 8)
    with pytest.raises(ShapeError, match=r"MultiheadAttention.*\(4, 2, 6\)"):
        attention(npgrad.ones(4, 2, 6), x, x)
    with pytest.raises(ShapeError, match=r"attn_mask of shape \(3, 4\)"):
        attention(x, x, x, attn_mask=npgrad.zeros(3, 4))
    with pytest.raises(ShapeError, match=r"key_padding_mask of shape \(4, 2\)"):
        attention(x, x, x, key_padding_mask=npgrad.zeros(4, 2).bool())
    with pytest.raises(ValueError, match="is_causal"):
        attention(x, x, x, is_causal=True)


LAYER_CASES = [
    {},
    {"norm_first": True},
    {"activation": "gelu", "batch_first": True},
    {"bias": False},
]


@needs_torch
@pytest.mark.parametrize("config", LAYER_CASES, ids=str)
def test_transformer_encoder_matches_torch(config):
    torch.manual_seed(0)
    layer_theirs = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, **config)
    theirs = torch.nn.TransformerEncoder(
        layer_theirs, 2, norm=torch.nn.LayerNorm(8), enable_nested_tensor=False
    ).double()
    ours = nn.TransformerEncoder(
        nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, **config), 2, norm=nn.LayerNorm(8)
    ).double()
    ours.load_state_dict(theirs.state_dict())
    shape = (3, 5, 8) if config.get("batch_first") else (5, 3, 8)
    x = make_inputs([shape])[0]
    padding = np.zeros((3, 5), dtype=bool)
    padding[0, -1] = True
    causal = nn.Transformer.generate_square_subsequent_mask(5, dtype=npgrad.float64)
    ours_in, theirs_in = npgrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out_ours = ours(ours_in, mask=causal, src_key_padding_mask=npgrad.tensor(padding))
    out_theirs = theirs(
        theirs_in,
        mask=torch.nn.Transformer.generate_square_subsequent_mask(5, dtype=torch.float64),
        src_key_padding_mask=torch.tensor(padding),
    )
    _compare([out_ours], [out_theirs], [ours_in], [theirs_in], ours, theirs)


@needs_torch
@pytest.mark.parametrize("config", [{}, {"norm_first": True, "batch_first": True}], ids=str)
def test_transformer_matches_torch(config):
    torch.manual_seed(0)
    theirs = torch.nn.Transformer(8, 2, 1, 2, 16, dropout=0.0, **config).double()
    ours = nn.Transformer(8, 2, 1, 2, 16, dropout=0.0, **config).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict(theirs.state_dict())
    batch_first = config.get("batch_first")
    src, tgt = make_inputs([(2, 6, 8), (2, 4, 8)] if batch_first else [(6, 2, 8), (4, 2, 8)])
    tgt_mask = np.triu(np.ones((4, 4), dtype=bool), k=1)
    memory_padding = np.zeros((2, 6), dtype=bool)
    memory_padding[1, -2:] = True
    ours_in = [npgrad.tensor(a, requires_grad=True) for a in (src, tgt)]
    theirs_in = [torch.tensor(a, requires_grad=True) for a in (src, tgt)]
    out_ours = ours(
        *ours_in,
        tgt_mask=npgrad.tensor(tgt_mask),
        memory_key_padding_mask=npgrad.tensor(memory_padding),
    )
    out_theirs = theirs(
        *theirs_in,
        tgt_mask=torch.tensor(tgt_mask),
        memory_key_padding_mask=torch.tensor(memory_padding),
    )
    _compare([out_ours], [out_theirs], ours_in, theirs_in, ours, theirs)


@needs_torch
def test_square_subsequent_mask_matches_torch():
    ours = nn.Transformer.generate_square_subsequent_mask(4)
    theirs = torch.nn.Transformer.generate_square_subsequent_mask(4)
    assert ours.dtype == npgrad.float32
    np.testing.assert_array_equal(ours.numpy(), theirs.float().numpy())


def test_encoder_layers_are_independent_copies():
    encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 3)
    weights = [layer.linear1.weight for layer in encoder.layers]
    assert len({id(w) for w in weights}) == 3
    with npgrad.no_grad():
        weights[0].add_(1.0)
    assert not np.allclose(weights[0].numpy(), weights[1].numpy())
    assert len(list(encoder.parameters())) == 3 * len(list(encoder.layers[0].parameters()))
    assert copy.deepcopy(encoder).layers[0].linear1.weight is not weights[0]


def test_dropout_in_attention_is_on_in_training_only():
    npgrad.manual_seed(0)
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.5, batch_first=True)
    x = npgrad.randn(2, 5, 8)
    assert not np.allclose(layer(x).numpy(), layer(x).numpy())  # a new dropout mask each call
    layer.eval()
    np.testing.assert_array_equal(layer(x).numpy(), layer(x).numpy())


def test_a_small_transformer_learns_to_copy_the_first_token():
    """Every position must output the sequence's first token: only attention can carry it."""
    npgrad.manual_seed(0)
    rng = np.random.default_rng(0)
    vocab, length, width = 6, 6, 32

    class Copier(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab, width)
            self.position = nn.Parameter(npgrad.randn(length, width) * 0.1)
            layer = nn.TransformerEncoderLayer(width, 4, 64, dropout=0.0, batch_first=True)
            self.encoder = nn.TransformerEncoder(layer, 1)
            self.head = nn.Linear(width, vocab)

        def forward(self, tokens):
            return self.head(self.encoder(self.embed(tokens) + self.position))

    model = Copier()
    optimizer = npgrad.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(150):
        tokens = rng.integers(0, vocab, (32, length))
        logits = model(npgrad.tensor(tokens))
        target = np.repeat(tokens[:, :1], length, axis=1)
        loss = nn.functional.cross_entropy(
            logits.reshape(-1, vocab), npgrad.tensor(target).flatten()
        )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    tokens = rng.integers(0, vocab, (200, length))
    predicted = model(npgrad.tensor(tokens)).numpy().argmax(-1)
    accuracy = (predicted == tokens[:, :1]).mean()
    assert accuracy > 0.95, accuracy
