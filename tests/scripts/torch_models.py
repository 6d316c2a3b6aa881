"""PyTorch twins of clfer's zoo models, with the same module names, so a clfer safetensors
checkpoint loads with load_state_dict(strict=True). Also reads safetensors without the
safetensors package (Debian has none): an 8-byte header length, a JSON header, raw data."""
import json
import struct

import numpy as np
import torch
import torch.nn as nn

_DTYPES = {"F32": np.float32, "I64": np.int64, "F16": np.float16}


def load_safetensors(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, e in header.items():
        b, end = e["data_offsets"]
        arr = np.frombuffer(data[b:end], dtype=_DTYPES[e["dtype"]]).reshape(e["shape"])
        tensors[name] = torch.from_numpy(arr.copy())
    return tensors, meta


def vgg13_ferplus(in_channels=1, classes=8, size=64):
    layers, c = [], in_channels
    for width, depth in ((64, 2), (128, 2), (256, 3), (256, 3)):
        for _ in range(depth):
            layers += [nn.Conv2d(c, width, 3, padding=1), nn.ReLU()]
            c = width
        layers += [nn.MaxPool2d(2, 2), nn.Dropout(0.25)]
    m = nn.Module()
    m.features = nn.Sequential(*layers)
    feat = 256 * (size // 16) ** 2
    m.classifier = nn.Sequential(nn.Linear(feat, 1024), nn.ReLU(), nn.Dropout(0.5), nn.Linear(1024, 1024), nn.ReLU(),
                                 nn.Dropout(0.5), nn.Linear(1024, classes))
    m.forward = lambda x: m.classifier(torch.flatten(m.features(x), 1))
    return m
