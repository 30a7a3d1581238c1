# A CRNN-style sequence recognizer trained with CTC, in the form OCR / speech tutorials take:
# a 1-D convolutional front end (run under gradient checkpointing), a bidirectional LSTM,
# per-frame log-probabilities into nn.CTCLoss, greedy decoding, TensorBoard logging.
# Data: sequences of 2-4 "glyphs" (each three frames of a class prototype plus noise) separated
# by noise frames, so the model must learn both what the glyphs are and where they are.
# Imported as torch; the same file runs on PyTorch with the imports switched back.
import os
import tempfile

import npgrad as torch
import npgrad.nn as nn
from npgrad.utils.checkpoint import checkpoint
from npgrad.utils.tensorboard import SummaryWriter

CLASSES = 6  # blank (0) and five glyphs
FEATURES = 8
STEPS = 24


def make_batch(batch_size, prototypes, generator):
    frames = 0.3 * torch.randn(batch_size, STEPS, FEATURES, generator=generator)
    targets, lengths = [], []
    for row in range(batch_size):
        count = int(torch.randint(2, 5, (1,), generator=generator))
        labels = torch.randint(1, CLASSES, (count,), generator=generator)
        position = int(torch.randint(0, 3, (1,), generator=generator))
        for label in labels.tolist():
            frames[row, position : position + 3] += prototypes[label]
            position += 3 + int(torch.randint(1, 3, (1,), generator=generator))
        targets.append(labels)
        lengths.append(count)
    return frames, torch.cat(targets), torch.tensor(lengths)


class Recognizer(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv1d(FEATURES, hidden, 3, padding=1),
            nn.BatchNorm1d(hidden),
            nn.ReLU(),
            nn.Conv1d(hidden, hidden, 3, padding=1),
            nn.ReLU(),
        )
        self.rnn = nn.LSTM(hidden, hidden, batch_first=True, bidirectional=True)
        self.classifier = nn.Linear(2 * hidden, CLASSES)

    def forward(self, x):  # x: (N, T, F)
        features = x.transpose(1, 2)
        if self.training:
            features = checkpoint(self.conv, features, use_reentrant=False)
        else:
            features = self.conv(features)
        states, _ = self.rnn(features.transpose(1, 2))
        return self.classifier(states).log_softmax(2).transpose(0, 1)  # (T, N, C) for CTC


def greedy_decode(log_probs):
    best = log_probs.argmax(2).transpose(0, 1).tolist()  # (N, T)
    decoded = []
    for row in best:
        labels, previous = [], 0
        for label in row:
            if label != previous and label != 0:
                labels.append(label)
            previous = label
        decoded.append(labels)
    return decoded


def main(iterations=300, batch_size=32, log_dir=None):
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(1)
    prototypes = 1.5 * torch.randn(CLASSES, FEATURES, generator=generator)
    model = Recognizer()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    criterion = nn.CTCLoss(blank=0, zero_infinity=True)
    log_dir = log_dir or tempfile.mkdtemp()
    writer = SummaryWriter(os.path.join(log_dir, "ctc"))
    input_lengths = torch.full((batch_size,), STEPS, dtype=torch.long)
    history = []
    for iteration in range(1, iterations + 1):
        model.train()
        frames, targets, target_lengths = make_batch(batch_size, prototypes, generator)
        log_probs = model(frames)
        loss = criterion(log_probs, targets, input_lengths, target_lengths)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
        writer.add_scalar("loss/train", loss.item(), iteration)
        if iteration % 50 == 0:
            model.eval()
            with torch.no_grad():
                frames, targets, target_lengths = make_batch(256, prototypes, generator)
                decoded = greedy_decode(model(frames))
            expected = [t.tolist() for t in torch.split(targets, target_lengths.tolist())]
            accuracy = sum(d == e for d, e in zip(decoded, expected)) / len(expected)
            writer.add_scalar("accuracy/sequence", accuracy, iteration)
            print(f"iteration {iteration}: CTC loss {loss.item():.3f}, sequence accuracy {accuracy:.2f}")
            history.append((loss.item(), accuracy))
    writer.close()
    return history


if __name__ == "__main__":
    main()
