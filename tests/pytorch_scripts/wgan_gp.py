# A WGAN-GP training loop (Gulrajani et al. 2017) in the form the public PyTorch
# implementations share: a critic without batch norm, the gradient penalty on random
# interpolates through torch.autograd.grad(create_graph=True), n_critic critic steps per
# generator step, Adam with betas (0.5, 0.9). Data: points on a ring, 2-D.
# Imported as torch; the same file runs on PyTorch with the imports switched back.
import math

import npgrad as torch
import npgrad.nn as nn
import npgrad.optim as optim


def ring(count, generator):
    angles = torch.rand(count, generator=generator) * 2 * math.pi
    points = torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)
    return points + 0.05 * torch.randn(count, 2, generator=generator)


def gradient_penalty(critic, real, fake):
    alpha = torch.rand(real.size(0), 1)
    interpolates = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    scores = critic(interpolates)
    gradients = torch.autograd.grad(
        outputs=scores,
        inputs=interpolates,
        grad_outputs=torch.ones_like(scores),
        create_graph=True,
        retain_graph=True,
    )[0]
    return ((gradients.norm(2, dim=1) - 1) ** 2).mean()


def main(iterations=150, n_critic=5, lambda_gp=0.1, batch=64):
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(1)
    netG = nn.Sequential(
        nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 2)
    )
    netD = nn.Sequential(
        nn.Linear(2, 64), nn.LeakyReLU(0.2), nn.Linear(64, 64), nn.LeakyReLU(0.2), nn.Linear(64, 1)
    )
    optD = optim.Adam(netD.parameters(), lr=1e-3, betas=(0.5, 0.9))
    optG = optim.Adam(netG.parameters(), lr=1e-3, betas=(0.5, 0.9))
    history = []
    for step in range(iterations):
        for _ in range(n_critic):
            real = ring(batch, generator)
            fake = netG(torch.randn(batch, 2)).detach()
            optD.zero_grad()
            gp = gradient_penalty(netD, real, fake)
            loss_D = netD(fake).mean() - netD(real).mean() + lambda_gp * gp
            loss_D.backward()
            optD.step()
        optG.zero_grad()
        loss_G = -netD(netG(torch.randn(batch, 2))).mean()
        loss_G.backward()
        optG.step()
        with torch.no_grad():
            radius = netG(torch.randn(512, 2)).norm(dim=1).mean().item()
        history.append((loss_D.item(), gp.item(), radius))
        if step % 50 == 0:
            print(
                f"[{step}/{iterations}] Loss_D: {loss_D.item():.4f} GP: {gp.item():.4f} "
                f"radius: {radius:.3f}"
            )
    return history
