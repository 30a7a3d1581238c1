# A convolutional autoencoder in the style of PyTorch image tutorials: strided convolutions
# with GroupNorm down, a transposed convolution, bilinear upsampling and reflection padding
# up, a depthwise-separable block, RAdam with a linear warm-up then cosine decay.
# Imported as torch; the same file runs on PyTorch with the imports switched back.
import npgrad as torch
import npgrad.nn as nn
import npgrad.nn.functional as F
from npgrad.utils.data import DataLoader, TensorDataset


def shapes(count, size=16, seed=0):
    """Images of one filled rectangle or disc each, on a black background."""
    generator = torch.Generator().manual_seed(seed)
    rows = torch.arange(size).float().reshape(size, 1)
    columns = torch.arange(size).float().reshape(1, size)
    images = []
    for _ in range(count):
        top, left, height, width = (torch.randint(2, 8, (4,), generator=generator)).tolist()
        if torch.rand(1, generator=generator).item() < 0.5:
            image = ((rows >= top) & (rows < top + height)) & (
                (columns >= left) & (columns < left + width)
            )
        else:
            image = (rows - top - 4) ** 2 + (columns - left - 4) ** 2 <= (height // 2 + 2) ** 2
        images.append(image.float())
    return torch.stack(images).unsqueeze(1)


class SeparableConv(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.depthwise = nn.Conv2d(channels, channels, 3, padding=1, groups=channels)
        self.pointwise = nn.Conv2d(channels, channels, 1)

    def forward(self, x):
        return self.pointwise(self.depthwise(x))


class AutoEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 8, 3, stride=2, padding=1),  # 16 -> 8
            nn.GroupNorm(2, 8),
            nn.LeakyReLU(0.2),
            nn.Conv2d(8, 16, 3, stride=2, padding=1),  # 8 -> 4
            nn.GroupNorm(4, 16),
            nn.LeakyReLU(0.2),
            SeparableConv(16),
        )
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(16, 8, 4, stride=2, padding=1),  # 4 -> 8
            nn.InstanceNorm2d(8, affine=True),
            nn.ReLU(),
            nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),  # 8 -> 16
            nn.ReflectionPad2d(1),
            nn.Conv2d(8, 1, 3),
        )

    def forward(self, x):
        return torch.sigmoid(self.decoder(self.encoder(x)))


def main(epochs=8, seed=0):
    torch.manual_seed(seed)
    images = shapes(256, seed=seed)
    loader = DataLoader(TensorDataset(images), batch_size=32, shuffle=True)
    model = AutoEncoder()
    optimizer = torch.optim.RAdam(model.parameters(), lr=1e-2)
    warmup = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=0.2, total_iters=2)
    cosine = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs - 2)
    scheduler = torch.optim.lr_scheduler.SequentialLR(optimizer, [warmup, cosine], [2])
    losses = []
    for epoch in range(epochs):
        total = 0.0
        for (batch,) in loader:
            optimizer.zero_grad()
            loss = F.mse_loss(model(batch), batch)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        scheduler.step()
        losses.append(total / len(images))
        print(f"epoch {epoch + 1}: reconstruction MSE {losses[-1]:.4f}")
    return losses


if __name__ == "__main__":
    main()
