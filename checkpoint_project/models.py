"""Checkpoint project, given code: Lab 6's block as this project uses it, a ResNet, the model wrapper.

Read it, you do not write it (task C.2 is your own network, `Network` in your file).

    conv_block      Lab 6's conv_bn_act with GELU, the run's BN momentum and an optional max-pool before BN
    ResNet          --arch resnet: a ResNet-9-shaped network with identity-initialised blocks
    Classifier      Normalize + network: takes raw 0..255 pixels, returns logits
    warm_up         untimed passes so cuDNN autotuning / torch.compile happen before the clock
(speedrun.py has airbench94's whitening network, --arch whiten.)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from lab6_cnn_classifier.solution import conv_bn_act  # noqa: E402


def conv_block(in_channels: int, out_channels: int, bn_momentum: float, pool: bool = False) -> nn.Sequential:
    """Lab 6's conv_bn_act (3x3 conv without bias -> BatchNorm -> activation) as this project uses it:
    GELU, the run's BN momentum, and with pool=True a 2x2 max-pool between the conv and the BN, so
    that BN and GELU run on a quarter of the pixels (README, "The network")."""
    block = conv_bn_act(in_channels, out_channels, 3, activation=nn.GELU)
    block[1].momentum = bn_momentum
    if pool:
        block.insert(1, nn.MaxPool2d(2))
    return block


class ResidualBlock(nn.Module):
    """x + body(x), body = two conv-BN-GELU, with the last BN's scale set to zero so that a fresh
    block is the identity: deep residual nets then train like shallow ones at first."""

    def __init__(self, channels: int, bn_momentum: float):
        super().__init__()
        self.body = nn.Sequential(conv_block(channels, channels, bn_momentum),
                                  conv_block(channels, channels, bn_momentum))
        nn.init.zeros_(self.body[1][1].weight)

    def forward(self, x):
        return x + self.body(x)


class ResNet(nn.Module):
    """ResNet-9 shape: a stem conv, then three stages of conv-pool-BN-GELU, the first and last
    followed by a residual block, a global max-pool and a linear head. Its parts are named as in
    Lab 6's ResNet (stem, layers, head), so Lab 6's default_stages lists them head first."""

    def __init__(self, widths=(64, 128, 256), num_classes: int = 10, bn_momentum: float = 0.4, logit_scale: float = 0.125):
        super().__init__()
        self.stem = conv_block(3, widths[0] // 2, bn_momentum)
        self.layers = nn.Sequential(
            nn.Sequential(conv_block(widths[0] // 2, widths[0], bn_momentum, pool=True), ResidualBlock(widths[0], bn_momentum)),
            conv_block(widths[0], widths[1], bn_momentum, pool=True),
            nn.Sequential(conv_block(widths[1], widths[2], bn_momentum, pool=True), ResidualBlock(widths[2], bn_momentum)))
        self.head = nn.Linear(widths[2], num_classes, bias=False)
        self.logit_scale = logit_scale

    def forward(self, x):
        x = self.layers(self.stem(x))
        return self.head(torch.amax(x, dim=(2, 3))) * self.logit_scale


# The given networks by --arch name ("cnn" is yours: Config.build_network).
ARCHITECTURES = {"resnet": ResNet}


class Normalize(nn.Module):
    """uint8-range input -> per-channel standardised float. Part of the model, so a checkpoint or an
    ONNX file takes raw pixel values (0..255) and nobody has to remember the dataset mean."""

    def __init__(self, mean: torch.Tensor, std: torch.Tensor):
        super().__init__()
        self.register_buffer("mean", mean.reshape(1, 3, 1, 1).float())
        self.register_buffer("std", std.reshape(1, 3, 1, 1).float())

    def forward(self, x):
        return (x - self.mean) / self.std


class Classifier(nn.Module):
    """Normalize + network: takes (N, 3, 32, 32) float pixel values in [0, 255], returns logits."""

    def __init__(self, network: nn.Module, mean: torch.Tensor, std: torch.Tensor):
        super().__init__()
        self.normalize = Normalize(mean, std)
        self.network = network

    def forward(self, x):
        return self.network(self.normalize(x))


def warm_up(net: nn.Module, model: nn.Module, batch_shape: tuple, memory_format, amp_dtype) -> float:
    """A few untimed forward/backward passes at the training batch shape, so that one-off work
    (cuDNN trying its algorithms for every conv, torch.compile compiling) is done before the clock
    starts, the way airbench times its runs. Returns the seconds it took. Weights, BN statistics
    and gradients are put back as they were: the run itself is unchanged."""
    device = next(model.parameters()).device
    saved = {name: value.clone() for name, value in model.state_dict().items()}
    started = time.perf_counter()
    x = torch.zeros(batch_shape, device=device).contiguous(memory_format=memory_format)
    model.train()
    for _ in range(3):
        with torch.amp.autocast(device_type=device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
            net(x).float().sum().backward()
    model.zero_grad(set_to_none=True)
    model.load_state_dict(saved)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - started
