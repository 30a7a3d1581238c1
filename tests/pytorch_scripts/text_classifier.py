# A recurrent text classifier in the style of PyTorch NLP tutorials: variable-length token
# sequences padded by a collate_fn, packed for a bidirectional LSTM, class weights through a
# WeightedRandomSampler, gradient scaling and clipping, a warm-restart cosine schedule.
# Imported as torch; the same file runs on PyTorch with the imports switched back.
import random

import npgrad as torch
import npgrad.nn as nn
from npgrad.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence
from npgrad.utils.data import DataLoader, Dataset, WeightedRandomSampler

VOCAB, PAD = 12, 0


class Sequences(Dataset):
    """Label 1 when token 3 occurs more often than token 4; lengths 3 to 20, one class rarer."""

    def __init__(self, count, seed):
        rng = random.Random(seed)
        self.items = []
        while len(self.items) < count:
            tokens = [rng.randint(1, VOCAB - 1) for _ in range(rng.randint(3, 20))]
            label = int(tokens.count(3) > tokens.count(4))
            if label == 1 or rng.random() < 0.5:  # fewer of class 0
                self.items.append((torch.tensor(tokens), label))

    def __len__(self):
        return len(self.items)

    def __getitem__(self, index):
        return self.items[index]


def collate(batch):
    sequences, labels = zip(*batch)
    lengths = torch.tensor([len(s) for s in sequences])
    return pad_sequence(sequences, batch_first=True, padding_value=PAD), lengths, torch.tensor(labels)


class Classifier(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.embedding = nn.Embedding(VOCAB, 16, padding_idx=PAD)
        self.lstm = nn.LSTM(16, hidden, batch_first=True, bidirectional=True)
        self.head = nn.Sequential(nn.Dropout(0.1), nn.Linear(4 * hidden, 2))

    def forward(self, tokens, lengths):
        packed = pack_padded_sequence(
            self.embedding(tokens), lengths, batch_first=True, enforce_sorted=False
        )
        output, (h_n, _) = self.lstm(packed)
        padded, _ = pad_packed_sequence(output, batch_first=True)
        mask = (torch.arange(padded.shape[1])[None, :] < lengths[:, None]).unsqueeze(-1)
        mean = (padded * mask).sum(1) / lengths[:, None]  # the mean over each sequence's steps
        last = torch.cat([h_n[0], h_n[1]], dim=1)  # the final states of both directions
        return self.head(torch.cat([mean, last], dim=1))


def main(epochs=6, seed=0):
    torch.manual_seed(seed)
    train_set, test_set = Sequences(512, seed), Sequences(256, seed + 1)
    labels = torch.tensor([label for _, label in train_set.items])
    class_counts = torch.bincount(labels, minlength=2).float()
    sampler = WeightedRandomSampler((1.0 / class_counts)[labels], num_samples=len(train_set))
    train_loader = DataLoader(train_set, batch_size=32, sampler=sampler, collate_fn=collate)
    test_loader = DataLoader(test_set, batch_size=64, collate_fn=collate)
    model = Classifier()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0=2)
    scaler = torch.amp.GradScaler("cpu")
    loss_fn = nn.CrossEntropyLoss()
    accuracies = []
    for epoch in range(epochs):
        model.train()
        for step, (tokens, lengths, targets) in enumerate(train_loader):
            optimizer.zero_grad()
            with torch.autocast("cpu"):
                loss = loss_fn(model(tokens, lengths), targets)
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            scaler.step(optimizer)
            scaler.update()
            scheduler.step(epoch + step / len(train_loader))
        model.eval()
        correct = 0
        with torch.no_grad():
            for tokens, lengths, targets in test_loader:
                correct += (model(tokens, lengths).argmax(1) == targets).sum().item()
        accuracies.append(correct / len(test_set))
        print(f"epoch {epoch + 1}: loss {loss.item():.3f}, test accuracy {accuracies[-1]:.3f}")
    return accuracies


if __name__ == "__main__":
    main()
