# The training loop of PyTorch's DCGAN tutorial, scaled down to 16x16 images: the tutorial's
# weights_init through Module.apply, ConvTranspose2d/BatchNorm2d generator, LeakyReLU
# discriminator, BCELoss, a label tensor refilled in place between the losses, fake.detach()
# for the discriminator step, Adam with betas (0.5, 0.999), torch.save / torch.load.
# Imported as torch; the same file runs on PyTorch with the imports switched back.
import npgrad as torch
import npgrad.nn as nn
import npgrad.optim as optim

nz = 8  # size of the latent vector


def weights_init(m):
    classname = m.__class__.__name__
    if classname.find("Conv") != -1:
        nn.init.normal_(m.weight.data, 0.0, 0.02)
    elif classname.find("BatchNorm") != -1:
        nn.init.normal_(m.weight.data, 1.0, 0.02)
        nn.init.constant_(m.bias.data, 0)


def blobs(count, generator):
    """Real images: one bright Gaussian blob each, in [-1, 1]."""
    grid = torch.arange(16).float()
    centres = torch.rand(count, 2, generator=generator) * 8 + 4
    rows = (grid[None, :] - centres[:, :1]) ** 2
    columns = (grid[None, :] - centres[:, 1:]) ** 2
    images = torch.exp(-(rows[:, :, None] + columns[:, None, :]) / 8)
    return (images * 2 - 1).unsqueeze(1)


def main(iterations=60, checkpoint="dcgan.pt"):
    torch.manual_seed(0)
    netG = nn.Sequential(
        nn.ConvTranspose2d(nz, 32, 4, 1, 0, bias=False),  # 1 -> 4
        nn.BatchNorm2d(32),
        nn.ReLU(True),
        nn.ConvTranspose2d(32, 16, 4, 2, 1, bias=False),  # 4 -> 8
        nn.BatchNorm2d(16),
        nn.ReLU(True),
        nn.ConvTranspose2d(16, 1, 4, 2, 1, bias=False),  # 8 -> 16
        nn.Tanh(),
    )
    netD = nn.Sequential(
        nn.Conv2d(1, 16, 4, 2, 1, bias=False),  # 16 -> 8
        nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(16, 32, 4, 2, 1, bias=False),  # 8 -> 4
        nn.BatchNorm2d(32),
        nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(32, 1, 4, 1, 0, bias=False),  # 4 -> 1
        nn.Sigmoid(),
    )
    netG.apply(weights_init)
    netD.apply(weights_init)
    criterion = nn.BCELoss()
    real_label, fake_label = 1.0, 0.0
    optimizerD = optim.Adam(netD.parameters(), lr=0.002, betas=(0.5, 0.999))
    optimizerG = optim.Adam(netG.parameters(), lr=0.002, betas=(0.5, 0.999))
    generator = torch.Generator().manual_seed(1)
    history = []
    for i in range(iterations):
        real = blobs(32, generator)
        b_size = real.size(0)
        netD.zero_grad()
        label = torch.full((b_size,), real_label, dtype=torch.float)
        output = netD(real).view(-1)
        errD_real = criterion(output, label)
        errD_real.backward()
        D_x = output.mean().item()
        noise = torch.randn(b_size, nz, 1, 1)
        fake = netG(noise)
        label.fill_(fake_label)
        output = netD(fake.detach()).view(-1)
        errD_fake = criterion(output, label)
        errD_fake.backward()
        D_G_z1 = output.mean().item()
        errD = errD_real + errD_fake
        optimizerD.step()
        netG.zero_grad()
        label.fill_(real_label)  # fake labels are real for generator cost
        output = netD(fake).view(-1)
        errG = criterion(output, label)
        errG.backward()
        D_G_z2 = output.mean().item()
        optimizerG.step()
        history.append((errD.item(), errG.item(), D_x, D_G_z1, D_G_z2))
        if i % 20 == 0:
            print(
                f"[{i}/{iterations}] Loss_D: {errD.item():.4f} Loss_G: {errG.item():.4f} "
                f"D(x): {D_x:.4f} D(G(z)): {D_G_z1:.4f} / {D_G_z2:.4f}"
            )
    torch.save({"netG": netG.state_dict(), "optimizerG": optimizerG.state_dict()}, checkpoint)
    restored = torch.load(checkpoint)
    netG.load_state_dict(restored["netG"])
    optimizerG.load_state_dict(restored["optimizerG"])
    with torch.no_grad():
        samples = netG(torch.randn(16, nz, 1, 1)).detach().cpu()
    return history, samples


if __name__ == "__main__":
    main()
