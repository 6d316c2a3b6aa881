#!/usr/bin/env python3
"""Checks an ONNX file written by `clfer export` and runs it against clfer's outputs.
usage: onnx_check.py MODEL.onnx INPUT.f32 EXPECTED.f32 N C H W [TOL]
onnx.checker.check_model (Debian python3-onnx) validates the file; the model then runs on
onnxruntime when it is installed, else on a small interpreter of the ops clfer exports written
with torch.nn.functional (python3-torch). Exit 0 when every output is within TOL (default 1e-4;
absolute, relative above 1) of EXPECTED; 77 when neither onnx nor an evaluator is available."""
import sys

try:
    import numpy as np
    import onnx
    from onnx import numpy_helper
except ImportError as e:
    print(f"onnx_check: skipped ({e})")
    sys.exit(77)


def run_torch(model, x):
    import torch
    import torch.nn.functional as F
    env = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in model.graph.initializer}
    env[model.graph.input[0].name] = torch.from_numpy(x)
    for n in model.graph.node:
        a = {at.name: onnx.helper.get_attribute_value(at) for at in n.attribute}
        i = [env[k] for k in n.input if k]
        op = n.op_type
        if op == "Conv":
            p = a.get("pads", [0, 0, 0, 0])
            assert p[0] == p[2] and p[1] == p[3]
            y = F.conv2d(i[0], i[1], i[2] if len(i) > 2 else None, a.get("strides", [1, 1]), p[:2],
                         a.get("dilations", [1, 1]), a.get("group", 1))
        elif op == "Gemm":
            b = i[1].t() if a.get("transB", 0) else i[1]
            y = a.get("alpha", 1.0) * i[0] @ b + (a.get("beta", 1.0) * i[2] if len(i) > 2 else 0)
        elif op == "Relu":
            y = F.relu(i[0])
        elif op == "LeakyRelu":
            y = F.leaky_relu(i[0], a.get("alpha", 0.01))
        elif op in ("MaxPool", "AveragePool"):
            p = a.get("pads", [0, 0, 0, 0])
            k, s, c = a["kernel_shape"], a.get("strides", [1, 1]), bool(a.get("ceil_mode", 0))
            if op == "MaxPool":
                y = F.max_pool2d(i[0], k, s, p[:2], ceil_mode=c)
            else:
                y = F.avg_pool2d(i[0], k, s, p[:2], ceil_mode=c, count_include_pad=bool(a.get("count_include_pad", 0)))
        elif op == "GlobalAveragePool":
            y = i[0].mean((2, 3), keepdim=True)
        elif op == "LRN":
            y = F.local_response_norm(i[0], a["size"], a.get("alpha", 1e-4), a.get("beta", 0.75), a.get("bias", 1.0))
        elif op == "BatchNormalization":
            y = F.batch_norm(i[0], i[3], i[4], i[1], i[2], False, 0.0, a.get("epsilon", 1e-5))
        elif op in ("Dropout", "Identity"):
            y = i[0]
        elif op == "Flatten":
            y = i[0].flatten(a.get("axis", 1))
        elif op == "Add":
            y = i[0] + i[1]
        elif op == "Concat":
            y = torch.cat(i, a["axis"])
        elif op == "Softmax":
            y = torch.softmax(i[0], a.get("axis", -1))
        else:
            sys.exit(f"onnx_check: the torch interpreter has no {op}")
        env[n.output[0]] = y
    return env[model.graph.output[0].name].numpy()


def main():
    path, inp, exp = sys.argv[1:4]
    n, c, h, w = map(int, sys.argv[4:8])
    tol = float(sys.argv[8]) if len(sys.argv) > 8 else 1e-4
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    x = np.fromfile(inp, dtype="<f4").reshape(n, c, h, w)
    want = np.fromfile(exp, dtype="<f4")
    try:
        import onnxruntime as ort
        sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        got, how = sess.run(None, {sess.get_inputs()[0].name: x})[0], f"onnxruntime {ort.__version__}"
    except ImportError:
        try:
            import torch  # noqa: F401
        except ImportError as e:
            print(f"onnx_check: checked, not run ({e})")
            sys.exit(77)
        got, how = run_torch(model, x), "torch.nn.functional interpreter"
    got = got.reshape(-1)
    if got.shape != want.shape:
        sys.exit(f"onnx_check: {got.shape[0]} outputs, clfer gave {want.shape[0]}")
    err = float((np.abs(got - want) / np.maximum(1.0, np.abs(want))).max())
    print(f"onnx_check: {path} passes onnx.checker (onnx {onnx.__version__}); {how}: max |onnx - clfer| = {err:.3g}")
    sys.exit(0 if err <= tol else 1)


if __name__ == "__main__":
    main()
