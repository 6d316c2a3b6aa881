#!/usr/bin/env python3
"""Exports a PyTorch model with random weights to ONNX, with an input and PyTorch's logits, for
tests/test_onnx.c. Debian's python3-torch (and python3-torchvision when present; plain torch.nn
twins otherwise).
usage: make_onnx.py MODEL OUT_DIR [--batch N] [--size S] [--seed S]
  MODEL: tiny, ops and bad (the committed fixtures: `make_onnx.py MODEL tests/fixtures/onnx
  --batch 2 --size 12`), alexnet, resnet18, resnet18_bn (batch norm kept,
  PyTorch names; the default export folds it into the convolutions)
writes OUT_DIR/MODEL.onnx, MODEL.input.f32 and MODEL.logits.f32 (float32, little-endian).
Exit 77 when torch is missing (the caller skips)."""
import argparse
import sys

try:
    import numpy as np
    import torch
    import torch.nn as nn
except ImportError as e:
    print(f"make_onnx: skipped ({e})")
    sys.exit(77)


class Tiny(nn.Module):
    """Two convs and most of the importer's ops in a few kilobytes: Conv (groups, padding), BN,
    ReLU, MaxPool (ceil), AveragePool (exported as Pad + AveragePool), a residual Add, Concat,
    Flatten, Dropout, Gemm. (PyTorch exports LocalResponseNorm as a chain of 70 elementary ops,
    not ONNX's LRN, so LRN is covered by the hand-built `ops` model.)"""

    def __init__(self, classes=5):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, stride=1, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1, groups=2, bias=False)
        self.avg = nn.AvgPool2d(3, 2, padding=1)
        self.drop = nn.Dropout(0.3)
        self.fc = nn.Linear(16 * 3 * 3, classes)

    def forward(self, x):
        x = self.pool1(torch.relu(self.bn1(self.conv1(x))))
        y = torch.relu(self.conv2(x) + x)
        x = self.avg(torch.cat([x, y], 1))
        return self.fc(self.drop(torch.flatten(x, 1)))


def randomise_bn(model, gen):
    """Non-trivial running statistics and affine terms so batch norm is really checked."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            m.running_mean.copy_(torch.randn(c, generator=gen) * 0.1)
            m.running_var.copy_(torch.rand(c, generator=gen) + 0.5)
            m.weight.data.copy_(torch.rand(c, generator=gen) + 0.5)
            m.bias.data.copy_(torch.randn(c, generator=gen) * 0.1)


def build(name):
    try:
        import torchvision.models as tv
    except ImportError:
        tv = None
    if name == "tiny":
        return Tiny()
    if name == "alexnet":
        return tv.alexnet() if tv else AlexNet()
    if name.startswith("resnet18"):
        return tv.resnet18() if tv else ResNet18()
    sys.exit(f"make_onnx: unknown model {name}")


class AlexNet(nn.Module):  # torchvision's layout, for hosts without torchvision
    def __init__(self, classes=1000):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, 11, 4, 2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
            nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
            nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2))
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(), nn.Linear(256 * 36, 4096), nn.ReLU(inplace=True),
            nn.Dropout(), nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Linear(4096, classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        return self.relu(y + (self.downsample(x) if self.downsample is not None else x))


class ResNet18(nn.Module):  # torchvision's layout, for hosts without torchvision
    def __init__(self, classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        layers, cin = [], 64
        for i, w in enumerate([64, 128, 256, 512]):
            s = 1 if i == 0 else 2
            layers.append(nn.Sequential(Block(cin, w, s), Block(w, w, 1)))
            cin = w
        self.layer1, self.layer2, self.layer3, self.layer4 = layers
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def make_ops(out_dir, batch, size, gen):
    """A graph written with onnx.helper for the ops PyTorch does not emit as such: LRN, LeakyRelu,
    MatMul + Add (bias), Conv + Add (bias), an FP16 initializer, Reshape [0, -1] from a Constant,
    Dropout with a ratio input, Identity, and a final Softmax (dropped on import unless kept).
    The expected output is computed with torch.nn.functional."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    import torch.nn.functional as F
    r = lambda *s: (torch.rand(*s, generator=gen) * 2 - 1)
    w1, b1 = r(4, 3, 3, 3) * 0.5, r(1, 4, 1, 1) * 0.1
    w1 = w1.half().float()  # stored as FP16
    feat = 4 * ((size // 2) // 2) ** 2
    w2, b2 = r(feat, 6) * 0.3, r(6) * 0.1
    inits = [numpy_helper.from_array(w1.numpy().astype(np.float16), "conv.weight"),
             numpy_helper.from_array(b1.numpy(), "conv_bias"),
             numpy_helper.from_array(w2.numpy(), "fc_w"), numpy_helper.from_array(b2.numpy(), "fc_b"),
             numpy_helper.from_array(np.array(0.2, dtype=np.float32), "ratio")]
    shape_const = helper.make_tensor("shape", TensorProto.INT64, [2], [0, -1])
    nodes = [
        helper.make_node("Conv", ["input", "conv.weight"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Add", ["c", "conv_bias"], ["cb"]),
        helper.make_node("LeakyRelu", ["cb"], ["lr"], alpha=0.1),
        helper.make_node("LRN", ["lr"], ["n"], size=3, alpha=1e-2, beta=0.75, bias=2.0),
        helper.make_node("MaxPool", ["n"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("AveragePool", ["p"], ["a"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
                         count_include_pad=0),
        helper.make_node("Identity", ["a"], ["i"]),
        helper.make_node("Constant", [], ["s"], value=shape_const),
        helper.make_node("Reshape", ["i", "s"], ["f"]),
        helper.make_node("MatMul", ["f", "fc_w"], ["m"]),
        helper.make_node("Add", ["m", "fc_b"], ["logits"]),
        helper.make_node("Dropout", ["logits", "ratio"], ["d"]),
        helper.make_node("Softmax", ["d"], ["prob"], axis=1),
    ]
    graph = helper.make_graph(nodes, "ops", [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, size, size])],
                              [helper.make_tensor_value_info("prob", TensorProto.FLOAT, ["N", 6])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="make_onnx.py")
    onnx.checker.check_model(model)
    onnx.save(model, f"{out_dir}/ops.onnx")
    x = r(batch, 3, size, size)
    y = F.leaky_relu(F.conv2d(x, w1, padding=1) + b1, 0.1)
    y = F.local_response_norm(y, 3, alpha=1e-2, beta=0.75, k=2.0)
    y = F.avg_pool2d(F.max_pool2d(y, 2, 2), 3, 2, padding=1, count_include_pad=False)
    logits = y.flatten(1) @ w2 + b2
    x.numpy().astype("<f4").tofile(f"{out_dir}/ops.input.f32")
    logits.numpy().astype("<f4").tofile(f"{out_dir}/ops.logits.f32")
    torch.softmax(logits, 1).numpy().astype("<f4").tofile(f"{out_dir}/ops.prob.f32")
    print(f"make_onnx: {out_dir}/ops.onnx input {list(x.shape)} logits {list(logits.shape)}")


def make_bad(out_dir):
    """Three small files clfer must refuse, naming the node: an unsupported op (Sin, node 1), an
    unsupported attribute value (Conv 'c1' with dilations 2), a DOUBLE initializer."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    w = np.ones((2, 1, 3, 3), dtype=np.float32)
    inp = [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 8, 8])]
    out = [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)]
    cases = {
        "bad_op": ([helper.make_node("Conv", ["x", "w"], ["c"], name="c1"),
                    helper.make_node("Sin", ["c"], ["y"], name="sin1")], w),
        "bad_attr": ([helper.make_node("Conv", ["x", "w"], ["y"], name="c1", dilations=[2, 2])], w),
        "bad_dtype": ([helper.make_node("Conv", ["x", "w"], ["y"], name="c1")], w.astype(np.float64)),
    }
    for name, (nodes, weight) in cases.items():
        g = helper.make_graph(nodes, name, inp, out, [numpy_helper.from_array(weight, "w")])
        onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), f"{out_dir}/{name}.onnx")
    print(f"make_onnx: {out_dir}/bad_*.onnx")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("out_dir")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed + 1)
    if a.model == "ops":
        return make_ops(a.out_dir, a.batch, a.size, gen)
    if a.model == "bad":
        return make_bad(a.out_dir)
    model = build(a.model)
    with torch.no_grad():
        randomise_bn(model, gen)
    model.eval()
    x = torch.rand(a.batch, 3, a.size, a.size, generator=gen) * 2 - 1
    with torch.no_grad():
        logits = model(x)
    path = f"{a.out_dir}/{a.model}.onnx"
    kwargs = {}
    if a.model in ("tiny", "resnet18_bn"):  # keep batch norm as its own node, with PyTorch names
        kwargs = dict(training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    torch.onnx.export(model, x, path, opset_version=13, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}}, **kwargs)
    x.numpy().astype("<f4").tofile(f"{a.out_dir}/{a.model}.input.f32")
    logits.numpy().astype("<f4").tofile(f"{a.out_dir}/{a.model}.logits.f32")
    print(f"make_onnx: {path} input {list(x.shape)} logits {list(logits.shape)}")


if __name__ == "__main__":
    main()
