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


def graph_forward(graph, tensors, x, train):
    """Runs a network from the layer list a clfer checkpoint stores in "clfer.graph" (name, type,
    inputs and each layer's settings), with torch.nn.functional. `tensors` maps clfer's parameter
    names ("conv1.weight", "bn1.running_mean") to tensors; in train mode batch norm uses batch
    statistics and updates its running buffers in place, as clfer does. Returns every layer's
    output by name (the last layer marked "output", else the last layer, is the logits)."""
    import torch.nn.functional as F

    out = {}
    for layer in graph:
        name, kind = layer["name"], layer["type"]
        ins = [out[i] for i in layer.get("inputs", [])]
        p = lambda key: tensors.get(f"{name}.{key}")  # noqa: E731
        if kind == "input":
            y = x
        elif kind == "conv2d":
            y = F.conv2d(ins[0], p("weight"), p("bias"), tuple(layer["stride"]), tuple(layer["pad"]), 1, layer["groups"])
        elif kind == "dense":
            y = F.linear(torch.flatten(ins[0], 1), p("weight"), p("bias"))
        elif kind == "relu":
            y = F.leaky_relu(ins[0], layer["slope"]) if layer["slope"] else F.relu(ins[0])
        elif kind == "maxpool":
            y = F.max_pool2d(ins[0], tuple(layer["kernel"]), tuple(layer["stride"]), tuple(layer["pad"]),
                             ceil_mode=bool(layer["ceil_mode"]))
        elif kind == "avgpool":
            y = F.avg_pool2d(ins[0], tuple(layer["kernel"]), tuple(layer["stride"]), tuple(layer["pad"]),
                             ceil_mode=bool(layer["ceil_mode"]), count_include_pad=bool(layer["count_include_pad"]))
        elif kind == "global_avgpool":
            y = F.adaptive_avg_pool2d(ins[0], 1)
        elif kind == "dropout":
            if train and layer["p"] > 0:
                raise ValueError(f"{name}: dropout masks cannot match clfer's; use p = 0 or eval mode")
            y = ins[0]
        elif kind == "batchnorm":
            if train and p("num_batches_tracked") is not None:
                p("num_batches_tracked").add_(1)
            y = F.batch_norm(ins[0], p("running_mean"), p("running_var"), p("weight"), p("bias"), train,
                             layer["momentum"], layer["eps"])
        elif kind == "lrn":
            y = F.local_response_norm(ins[0], layer["size"], layer["alpha"], layer["beta"], layer["k"])
        elif kind == "flatten":
            y = torch.flatten(ins[0], 1)
        elif kind == "add":
            y = ins[0] + ins[1]
        elif kind == "concat":
            y = torch.cat(ins, 1)
        elif kind == "softmax":
            y = F.softmax(ins[0], 1)
        else:
            raise ValueError(f"{name}: no PyTorch form for layer type {kind}")
        out[name] = y
    return out
