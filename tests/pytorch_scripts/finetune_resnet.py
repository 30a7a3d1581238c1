# Transfer learning in the style of PyTorch's "Transfer Learning for Computer Vision" tutorial:
# a torchvision ResNet-18 with a new last layer, trained in train/val phases under
# torch.set_grad_enabled, SGD with momentum and StepLR, the best weights kept with
# copy.deepcopy(model.state_dict()); then the "fixed feature extractor" variant, the backbone
# frozen with requires_grad = False. Images are generated (two classes that differ in colour
# and texture) instead of the tutorial's ants and bees.
# Imported as torch; written to run on PyTorch with torchvision's imports switched back (not
# checked here: torchvision is not a test dependency).
import copy
import time

import npgrad as torch
import npgrad.nn as nn
import npgrad.optim as optim
from npgrad.optim import lr_scheduler
from npgrad.utils.data import DataLoader, TensorDataset
from npgrad.vision import models, transforms


def make_images(count, seed):
    """(count, 3, 32, 32) images in [0, 1]: class 0 warm with horizontal stripes, 1 cool and
    vertical."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 2, (count,), generator=generator)
    stripes = (torch.arange(32) // 4 % 2).float()
    images = torch.rand(count, 3, 32, 32, generator=generator) * 0.5
    for index, label in enumerate(labels.tolist()):
        pattern = stripes.reshape(32, 1) if label == 0 else stripes.reshape(1, 32)
        tint = torch.tensor([0.5, 0.2, 0.0] if label == 0 else [0.0, 0.2, 0.5]).reshape(3, 1, 1)
        images[index] = (images[index] + 0.3 * pattern + tint).clamp(0, 1)
    return images, labels


normalize = transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
dataloaders = {}
for phase, count, seed in (("train", 96, 0), ("val", 64, 1)):
    images, labels = make_images(count, seed)
    dataloaders[phase] = DataLoader(
        TensorDataset(normalize(images), labels), batch_size=16, shuffle=phase == "train"
    )
dataset_sizes = {phase: len(loader.dataset) for phase, loader in dataloaders.items()}
device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")


def train_model(model, criterion, optimizer, scheduler, num_epochs=3):
    since = time.time()
    best_model_wts = copy.deepcopy(model.state_dict())
    best_acc = 0.0
    for epoch in range(num_epochs):
        print(f"Epoch {epoch}/{num_epochs - 1}")
        for phase in ["train", "val"]:
            if phase == "train":
                model.train()
            else:
                model.eval()
            running_loss = 0.0
            running_corrects = 0
            for inputs, labels in dataloaders[phase]:
                inputs = inputs.to(device)
                labels = labels.to(device)
                optimizer.zero_grad()
                with torch.set_grad_enabled(phase == "train"):
                    outputs = model(inputs)
                    _, preds = torch.max(outputs, 1)
                    loss = criterion(outputs, labels)
                    if phase == "train":
                        loss.backward()
                        optimizer.step()
                running_loss += loss.item() * inputs.size(0)
                running_corrects += torch.sum(preds == labels.data)
            if phase == "train":
                scheduler.step()
            epoch_loss = running_loss / dataset_sizes[phase]
            epoch_acc = running_corrects.double() / dataset_sizes[phase]
            print(f"{phase} Loss: {epoch_loss:.4f} Acc: {epoch_acc:.4f}")
            if phase == "val" and epoch_acc > best_acc:
                best_acc = epoch_acc
                best_model_wts = copy.deepcopy(model.state_dict())
    time_elapsed = time.time() - since
    print(f"Training complete in {time_elapsed // 60:.0f}m {time_elapsed % 60:.0f}s")
    print(f"Best val Acc: {best_acc:4f}")
    model.load_state_dict(best_model_wts)
    return model, float(best_acc)


def main(weights="IMAGENET1K_V1", num_epochs=3):
    torch.manual_seed(0)
    # fine-tuning the whole network
    model_ft = models.resnet18(weights=weights)
    model_ft.fc = nn.Linear(model_ft.fc.in_features, 2)
    model_ft = model_ft.to(device)
    criterion = nn.CrossEntropyLoss()
    optimizer_ft = optim.SGD(model_ft.parameters(), lr=0.001, momentum=0.9)
    exp_lr_scheduler = lr_scheduler.StepLR(optimizer_ft, step_size=7, gamma=0.1)
    _, finetuned = train_model(model_ft, criterion, optimizer_ft, exp_lr_scheduler, num_epochs)
    # the network as a fixed feature extractor: only the new last layer learns
    model_conv = models.resnet18(weights=weights)
    for param in model_conv.parameters():
        param.requires_grad = False
    model_conv.fc = nn.Linear(model_conv.fc.in_features, 2)
    optimizer_conv = optim.SGD(model_conv.fc.parameters(), lr=0.001, momentum=0.9)
    exp_lr_scheduler = lr_scheduler.StepLR(optimizer_conv, step_size=7, gamma=0.1)
    _, fixed = train_model(model_conv, criterion, optimizer_conv, exp_lr_scheduler, num_epochs)
    return finetuned, fixed


if __name__ == "__main__":
    main()
