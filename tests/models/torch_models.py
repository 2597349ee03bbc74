"""PyTorch models written here the way their papers and torchvision lay them out (no torchvision needed)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def conv3x3(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel_size=3, stride=stride, padding=1, bias=False)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, cin: int, width: int, stride: int = 1):
        super().__init__()
        self.conv1 = conv3x3(cin, width, stride)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(width, width)
        self.bn2 = nn.BatchNorm2d(width)
        self.downsample = None
        if stride != 1 or cin != width:
            self.downsample = nn.Sequential(nn.Conv2d(cin, width, 1, stride=stride, bias=False), nn.BatchNorm2d(width))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += identity
        return self.relu(out)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin: int, width: int, stride: int = 1):
        super().__init__()
        cout = width * self.expansion
        self.conv1 = nn.Conv2d(cin, width, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = conv3x3(width, width, stride)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, cout, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class ResNet(nn.Module):
    def __init__(self, block, layers, num_classes: int = 1000):
        super().__init__()
        self.cin = 64
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._stage(block, 64, layers[0])
        self.layer2 = self._stage(block, 128, layers[1], stride=2)
        self.layer3 = self._stage(block, 256, layers[2], stride=2)
        self.layer4 = self._stage(block, 512, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)

    def _stage(self, block, width, blocks, stride=1):
        layers = [block(self.cin, width, stride)]
        self.cin = width * block.expansion
        layers += [block(self.cin, width) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = torch.flatten(self.avgpool(x), 1)
        return self.fc(x)


def resnet18(num_classes: int = 1000) -> ResNet:
    return ResNet(BasicBlock, [2, 2, 2, 2], num_classes)


def resnet50(num_classes: int = 1000) -> ResNet:
    return ResNet(Bottleneck, [3, 4, 6, 3], num_classes)


class VGG(nn.Module):
    """VGG with Flatten -> Linear: the classifier pins the input size (no adaptive pooling)."""

    def __init__(self, cfg=(16, "M", 32, "M", 64, 64, "M", 64, "M", 64, "M"), size: int = 7, num_classes: int = 10):
        super().__init__()
        layers, cin = [], 3
        for v in cfg:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(cin, v, 3, padding=1), nn.ReLU(inplace=True)]
                cin = v
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(cin * size * size, 64), nn.ReLU(True),
                                        nn.Dropout(), nn.Linear(64, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


class UNet(nn.Module):
    """A small U-Net: valid-free (padded) convs, max-pool down, transposed conv up, skip concatenations."""

    def __init__(self, cin: int = 3, base: int = 8, depth: int = 3, classes: int = 2):
        super().__init__()
        self.downs, self.ups, self.reduce = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        ch = cin
        widths = [base * 2 ** j for j in range(depth + 1)]
        for w in widths[:-1]:
            self.downs.append(self._double(ch, w))
            ch = w
        self.pool = nn.MaxPool2d(2)
        self.bottom = self._double(ch, widths[-1])
        ch = widths[-1]
        for w in reversed(widths[:-1]):
            self.ups.append(nn.ConvTranspose2d(ch, w, 2, stride=2))
            self.reduce.append(self._double(2 * w, w))
            ch = w
        self.head = nn.Conv2d(ch, classes, 1)

    @staticmethod
    def _double(cin, cout):
        return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                             nn.Conv2d(cout, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))

    def forward(self, x):
        skips = []
        for down in self.downs:
            x = down(x)
            skips.append(x)
            x = self.pool(x)
        x = self.bottom(x)
        for up, reduce, skip in zip(self.ups, self.reduce, reversed(skips)):
            x = reduce(torch.cat([up(x), skip], dim=1))
        return self.head(x)


class TransformerClassifier(nn.Module):
    """Token embedding + learned positions + nn.TransformerEncoder + mean pooling + Linear."""

    def __init__(self, vocab: int = 100, d_model: int = 32, heads: int = 4, layers: int = 2, classes: int = 5,
                 max_len: int = 64):
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model)
        self.pos = nn.Parameter(torch.zeros(1, max_len, d_model))
        layer = nn.TransformerEncoderLayer(d_model, heads, dim_feedforward=64, batch_first=True, dropout=0.0)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, classes)

    def forward(self, tokens):
        x = self.embed(tokens)
        x = self.encoder(x)
        return self.head(self.norm(x).mean(dim=1))


class EncoderOnly(nn.Module):
    """A Transformer encoder on features (N, L, d_model): Linear in, encoder, Linear out."""

    def __init__(self, features: int = 16, d_model: int = 32, heads: int = 4, layers: int = 2, classes: int = 3):
        super().__init__()
        self.proj = nn.Linear(features, d_model)
        layer = nn.TransformerEncoderLayer(d_model, heads, dim_feedforward=64, batch_first=True, dropout=0.0)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = nn.Linear(d_model, classes)

    def forward(self, x):
        return self.head(self.encoder(self.proj(x)))


class LSTMTagger(nn.Module):
    """Embedding -> bidirectional LSTM -> per-token Linear."""

    def __init__(self, vocab: int = 50, emb: int = 16, hidden: int = 24, tags: int = 7):
        super().__init__()
        self.embed = nn.Embedding(vocab, emb)
        self.lstm = nn.LSTM(emb, hidden, num_layers=2, batch_first=True, bidirectional=True)
        self.out = nn.Linear(2 * hidden, tags)

    def forward(self, tokens):
        states, _ = self.lstm(self.embed(tokens))
        return F.log_softmax(self.out(states), dim=-1)


class FunctionalNet(nn.Module):
    """Functional ops torchinfo cannot see: view, interpolate, adaptive pooling, cat, +."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.side = nn.Conv2d(3, 8, 1)
        self.fc = nn.Linear(16 * 4 * 4, 10)

    def forward(self, x):
        y = F.relu(self.stem(x))
        y = F.interpolate(y, scale_factor=2, mode="nearest")
        z = self.side(x)
        y = torch.cat([y, z], 1) + 1.0
        y = F.adaptive_avg_pool2d(y, (4, 4))
        return self.fc(y.view(y.size(0), -1))


def factory_raises():
    raise RuntimeError("this factory fails on purpose")
