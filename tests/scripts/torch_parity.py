#!/usr/bin/env python3
"""Loads a clfer checkpoint of a zoo model into its PyTorch twin and compares logits.
usage: torch_parity.py MODEL CKPT INPUT.f32 LOGITS.f32 N C H W K
Exit 0 when PyTorch's logits match clfer's within 1e-4 (absolute, or relative for |logit| > 1);
exit 77 when torch is not importable (the caller skips)."""
import sys

try:
    import numpy as np
    import torch
except ImportError as e:
    print(f"torch_parity: skipped ({e})")
    sys.exit(77)

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import torch_models  # noqa: E402

model, ckpt, inp, logits = sys.argv[1:5]
n, c, h, w, k = map(int, sys.argv[5:10])
state, meta = torch_models.load_safetensors(ckpt)
if model != "vgg13_ferplus":
    sys.exit(f"torch_parity: no PyTorch twin for {model}")
net = torch_models.vgg13_ferplus(c, k, h)
missing = net.load_state_dict(state, strict=True)
net.eval()
x = torch.from_numpy(np.fromfile(inp, dtype=np.float32).reshape(n, c, h, w))
want = np.fromfile(logits, dtype=np.float32).reshape(n, k)
with torch.no_grad():
    got = net(x).numpy()
err = np.abs(got - want) / np.maximum(1.0, np.abs(got))
print(f"torch_parity: {model} {n}x{c}x{h}x{w}: max |pytorch - clfer| (relative above 1) = {err.max():.3g}")
sys.exit(0 if err.max() <= 1e-4 else 1)
