"""ResNets as torchvision builds them (He et al., "Deep Residual Learning for Image
Recognition", 2016; the stride in the bottleneck's 3x3 convolution, "ResNet v1.5").

The modules, their names and their parameters are torchvision's, so a state dict saved from
``torchvision.models.resnet18()`` loads into ``npgrad.vision.models.resnet18()`` and the two
compute the same function. ``weights="IMAGENET1K_V1"`` (or ``"DEFAULT"``, or
``ResNet18_Weights.IMAGENET1K_V1``) downloads torchvision's ImageNet weights once (checked
against the hash in their file name, cached by ``npgrad.hub``) and loads them.

Transfer learning, the usual recipe::

    model = resnet18(weights="DEFAULT")
    model.requires_grad_(False)                    # freeze the backbone
    model.fc = nn.Linear(model.fc.in_features, 5)  # a new head, trainable
    optimizer = npgrad.optim.Adam(model.fc.parameters(), lr=1e-3)

Inputs are (N, 3, H, W) float32 RGB in [0, 1], normalised with ``IMAGENET_MEAN`` and
``IMAGENET_STD`` as the weights were trained; 224x224 is their size, smaller images work.
"""

from npgrad import nn

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
_DOWNLOADS = "https://download.pytorch.org/models/"


class Weights:
    """A set of pretrained weights: where they are, what they were trained for, as
    torchvision's ``WeightsEnum`` members (``ResNet18_Weights.IMAGENET1K_V1.url``)."""

    def __init__(self, name, url, num_classes, accuracy):
        self.name, self.url = name, url
        self.meta = {"num_classes": num_classes, "acc@1": accuracy, "dataset": "ImageNet-1K"}

    def transforms(self):
        """The evaluation preprocessing the weights expect, on float image Tensors (3, H, W)
        or (N, 3, H, W) in [0, 1] (``ToTensor`` makes them from 8-bit (H, W, 3) arrays): the
        shorter side resized to 256, the central 224x224, normalised with ``IMAGENET_MEAN`` /
        ``STD``."""
        from npgrad.data import transforms

        return transforms.Compose(
            [
                transforms.Resize(256),
                transforms.CenterCrop(224),
                transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD),
            ]
        )

    def get_state_dict(self, progress=True, check_hash=True):
        from npgrad.hub import load_state_dict_from_url

        return load_state_dict_from_url(self.url, progress=progress, check_hash=check_hash)

    def __repr__(self):
        return f"Weights.{self.name}"


class _WeightsSet:
    """The weights of one architecture: members by name, ``DEFAULT`` the best."""

    def __init__(self, architecture, default, **members):
        self.architecture = architecture
        for name, member in members.items():
            setattr(self, name, member)
        self.DEFAULT = members[default]

    def resolve(self, weights):
        """``weights`` as a ``Weights`` (None stays None): a member, or a member's name."""
        if weights is None or isinstance(weights, Weights):
            return weights
        member = getattr(self, str(weights).split(".")[-1], None)
        if not isinstance(member, Weights):
            names = sorted(k for k, v in vars(self).items() if isinstance(v, Weights))
            raise ValueError(
                f"{self.architecture}: unknown weights {weights!r}; choose from {names}"
            )
        return member


ResNet18_Weights = _WeightsSet(
    "resnet18",
    "IMAGENET1K_V1",
    IMAGENET1K_V1=Weights("IMAGENET1K_V1", _DOWNLOADS + "resnet18-f37072fd.pth", 1000, 69.758),
)
ResNet34_Weights = _WeightsSet(
    "resnet34",
    "IMAGENET1K_V1",
    IMAGENET1K_V1=Weights("IMAGENET1K_V1", _DOWNLOADS + "resnet34-b627a593.pth", 1000, 73.314),
)
ResNet50_Weights = _WeightsSet(
    "resnet50",
    "IMAGENET1K_V2",
    IMAGENET1K_V1=Weights("IMAGENET1K_V1", _DOWNLOADS + "resnet50-0676ba61.pth", 1000, 76.13),
    IMAGENET1K_V2=Weights("IMAGENET1K_V2", _DOWNLOADS + "resnet50-11ad3fa6.pth", 1000, 80.858),
)


def _conv3x3(inputs, outputs, stride=1):
    return nn.Conv2d(inputs, outputs, 3, stride=stride, padding=1, bias=False)


def _conv1x1(inputs, outputs, stride=1):
    return nn.Conv2d(inputs, outputs, 1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions and a shortcut: relu(bn2(conv2(relu(bn1(conv1(x))))) + x)."""

    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = _conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = _conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample  # the shortcut's projection when the shape changes
        self.stride = stride

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.relu(out + shortcut)


class Bottleneck(nn.Module):
    """1x1 (narrow), 3x3 (strided), 1x1 (widen by 4) convolutions and a shortcut."""

    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = _conv1x1(inplanes, planes)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = _conv3x3(planes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = _conv1x1(planes, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.relu(out + shortcut)


class ResNet(nn.Module):
    """A 7x7 stem, four stages of residual blocks (64, 128, 256, 512 channels, each stage after
    the first halving the resolution), global average pooling and a linear classifier ``fc``."""

    def __init__(self, block, layers, num_classes=1000, zero_init_residual=False):
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
        if zero_init_residual:  # each block's residual branch starts at zero: the identity
            for module in self.modules():
                if isinstance(module, Bottleneck):
                    nn.init.zeros_(module.bn3.weight)
                elif isinstance(module, BasicBlock):
                    nn.init.zeros_(module.bn2.weight)

    def _make_layer(self, block, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                _conv1x1(self.inplanes, planes * block.expansion, stride),
                nn.BatchNorm2d(planes * block.expansion),
            )
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward_features(self, x):
        """The pooled features before ``fc``: (N, 512 * expansion)."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.avgpool(x).flatten(1)

    def forward(self, x):
        return self.fc(self.forward_features(x))


def _resnet(block, layers, weights_set, weights, progress, **options):
    weights = weights_set.resolve(weights)
    if weights is not None:
        classes = options.setdefault("num_classes", weights.meta["num_classes"])
        if classes != weights.meta["num_classes"]:
            raise ValueError(
                f"{weights_set.architecture}: the {weights.name} weights have "
                f"{weights.meta['num_classes']} classes, not num_classes={classes}; load them, "
                "then replace model.fc with a new nn.Linear for your classes"
            )
    model = ResNet(block, layers, **options)
    if weights is not None:
        model.load_state_dict(weights.get_state_dict(progress=progress))
    return model


def resnet18(*, weights=None, progress=True, **options):
    """ResNet-18 (11.7M parameters): torchvision's ``resnet18``."""
    return _resnet(BasicBlock, [2, 2, 2, 2], ResNet18_Weights, weights, progress, **options)


def resnet34(*, weights=None, progress=True, **options):
    """ResNet-34 (21.8M parameters): torchvision's ``resnet34``."""
    return _resnet(BasicBlock, [3, 4, 6, 3], ResNet34_Weights, weights, progress, **options)


def resnet50(*, weights=None, progress=True, **options):
    """ResNet-50 (25.6M parameters): torchvision's ``resnet50``."""
    return _resnet(Bottleneck, [3, 4, 6, 3], ResNet50_Weights, weights, progress, **options)
