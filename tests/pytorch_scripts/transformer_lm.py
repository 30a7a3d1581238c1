# A word-level language model in the style of PyTorch's "Language Modeling with nn.Transformer"
# tutorial: nn.TransformerEncoder over sequence-first batches, sinusoidal positional encoding in a
# registered buffer, a square subsequent mask, SGD + StepLR, clip_grad_norm_, perplexity.
# Imported as torch; the data is a small synthetic corpus instead of WikiText-2.
import math
import time

import npgrad as torch
from npgrad import nn
from npgrad.nn import TransformerEncoder, TransformerEncoderLayer


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, dropout=0.1, max_len=5000):
        super().__init__()
        self.dropout = nn.Dropout(p=dropout)
        position = torch.arange(max_len).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(max_len, 1, d_model)
        pe[:, 0, 0::2] = torch.sin(position * div_term)
        pe[:, 0, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe)

    def forward(self, x):
        x = x + self.pe[: x.size(0)]
        return self.dropout(x)


class TransformerModel(nn.Module):
    def __init__(self, ntoken, d_model, nhead, d_hid, nlayers, dropout=0.5):
        super().__init__()
        self.model_type = "Transformer"
        self.pos_encoder = PositionalEncoding(d_model, dropout)
        encoder_layers = TransformerEncoderLayer(d_model, nhead, d_hid, dropout)
        self.transformer_encoder = TransformerEncoder(encoder_layers, nlayers)
        self.embedding = nn.Embedding(ntoken, d_model)
        self.d_model = d_model
        self.linear = nn.Linear(d_model, ntoken)
        self.init_weights()

    def init_weights(self):
        initrange = 0.1
        self.embedding.weight.data.uniform_(-initrange, initrange)
        self.linear.bias.data.zero_()
        self.linear.weight.data.uniform_(-initrange, initrange)

    def forward(self, src, src_mask=None):
        src = self.embedding(src) * math.sqrt(self.d_model)
        src = self.pos_encoder(src)
        if src_mask is None:
            src_mask = nn.Transformer.generate_square_subsequent_mask(len(src))
        output = self.transformer_encoder(src, src_mask)
        return self.linear(output)


def make_corpus(words=6000, seed=0):
    """A tiny grammar: subject verb object, so the next word is partly predictable."""
    subjects, verbs, objects = ["cat", "dog", "bird"], ["sees", "likes"], ["fish", "seeds", "toys"]
    generator = torch.Generator().manual_seed(seed)
    tokens = []
    while len(tokens) < words:
        pick = torch.randint(0, 3, (3,), generator=generator).tolist()
        tokens += [subjects[pick[0]], verbs[pick[1] % 2], objects[pick[2]], "."]
    vocab = sorted(set(tokens))
    index = {word: i for i, word in enumerate(vocab)}
    return torch.tensor([index[w] for w in tokens], dtype=torch.long), vocab


def batchify(data, bsz):
    seq_len = data.size(0) // bsz
    data = data[: seq_len * bsz]
    data = data.view(bsz, seq_len).t().contiguous()
    return data


bptt = 16


def get_batch(source, i):
    seq_len = min(bptt, len(source) - 1 - i)
    data = source[i : i + seq_len]
    target = source[i + 1 : i + 1 + seq_len].reshape(-1)
    return data, target


def main(epochs=3, log=print):
    torch.manual_seed(0)
    data, vocab = make_corpus()
    split = int(0.9 * len(data))
    train_data, val_data = batchify(data[:split], 20), batchify(data[split:], 10)
    ntokens = len(vocab)
    model = TransformerModel(ntokens, d_model=32, nhead=2, d_hid=64, nlayers=2, dropout=0.1)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1.0, gamma=0.95)

    def evaluate(eval_data):
        model.eval()
        total_loss = 0.0
        with torch.no_grad():
            for i in range(0, eval_data.size(0) - 1, bptt):
                data, targets = get_batch(eval_data, i)
                output = model(data)
                output_flat = output.view(-1, ntokens)
                total_loss += len(data) * criterion(output_flat, targets).item()
        return total_loss / (len(eval_data) - 1)

    history = []
    for epoch in range(1, epochs + 1):
        model.train()
        start = time.time()
        total_loss = 0.0
        for batch, i in enumerate(range(0, train_data.size(0) - 1, bptt)):
            data, targets = get_batch(train_data, i)
            output = model(data)
            loss = criterion(output.view(-1, ntokens), targets)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
            optimizer.step()
            total_loss += loss.item()
        val_loss = evaluate(val_data)
        history.append(val_loss)
        log(
            f"| end of epoch {epoch:3d} | time: {time.time() - start:5.2f}s | "
            f"train loss {total_loss / (batch + 1):5.2f} | valid loss {val_loss:5.2f} | "
            f"valid ppl {math.exp(val_loss):8.2f} | lr {scheduler.get_last_lr()[0]:.3f}"
        )
        scheduler.step()
    return history


if __name__ == "__main__":
    main()
