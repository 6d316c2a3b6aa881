#!/usr/bin/env python3
"""Takes the training steps test_torch_parity.c took in clfer again in PyTorch and compares.
usage: torch_train_parity.py DIR STEPS
DIR holds start.safetensors (the network, its clfer.graph and the starting weights), the batch
(input/targets/labels/multilabel/coder_labels .f32), the starting class centres and LTNet
transitions (start_centres/start_transitions .f32), scenarios.json (per scenario: optimizer,
learning rate, loss terms) and, per scenario, clfer's losses and its checkpoint after STEPS steps. PyTorch runs in float64 with torch.optim and the losses written
out from METHODS.md; every loss, parameter, batch-norm buffer, LTNet transition matrix and class
centre must agree. Exit 0 when all do, 1 otherwise, 77 when torch is missing."""
import json
import sys

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError as e:
    print(f"torch_train_parity: skipped ({e})")
    sys.exit(77)

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import torch_models  # noqa: E402

LOSS_RTOL = 1e-5
PARAM_TOL = 2e-5  # of the tensor's largest magnitude (found: <= 1e-6 on PoCL; a biased running variance is 8e-4 off)

d, steps = sys.argv[1], int(sys.argv[2])
cfg = json.load(open(f"{d}/scenarios.json"))
n, classes, coders = cfg["n"], cfg["classes"], cfg["coders"]


def f32(name, *shape):
    return torch.from_numpy(np.fromfile(f"{d}/{name}.f32", dtype=np.float32).astype(np.float64).reshape(shape))


start, meta = torch_models.load_safetensors(f"{d}/start.safetensors")
graph = json.loads(meta["clfer.graph"])
output = next((l["name"] for l in graph if l.get("output")), graph[-1]["name"])
features = next(l["name"] for l in graph if l.get("features"))
x = f32("input", n, *graph[0]["shape"])
targets, labels = f32("targets", n, classes), f32("labels", n).long()
multilabel, coder_labels = f32("multilabel", n, classes), f32("coder_labels", n, coders).long()
buffers = ("running_mean", "running_var", "num_batches_tracked")


def locality(feat, k):
    """DLP-CNN eq. 3-4: mean over the batch of ½‖x_i − mean of its k nearest same-class others‖²,
    the neighbours held constant; fewer than k others: all of them; none: no term."""
    fd = feat.detach()
    total = feat.new_zeros(())
    for i in range(n):
        others = [j for j in range(n) if j != i and labels[j] == labels[i]]
        if not others:
            continue
        dist = [(float(((fd[j] - fd[i]) ** 2).sum()), j) for j in others]  # ties: the lower index
        near = [j for _, j in sorted(dist)[:k]]
        total = total + 0.5 * ((feat[i] - fd[near].mean(0)) ** 2).sum()
    return total / n


def run(sc):
    t = {k: v.double().clone() for k, v in start.items()}
    params = {k: v.requires_grad_() for k, v in t.items() if not k.endswith(buffers)}
    centres = f32("start_centres", classes, -1)  # a fresh copy per scenario
    trans = f32("start_transitions", coders, classes, classes)
    kinds = [term["kind"] for term in sc["terms"]]
    if "ltnet" in kinds:
        params["ltnet.transitions"] = trans.requires_grad_()
    o = sc["optim"]
    if o["kind"] == "sgd":
        opt = torch.optim.SGD(params.values(), lr=sc["lr"], momentum=o["momentum"], dampening=o["dampening"],
                              nesterov=bool(o["nesterov"]), weight_decay=o["weight_decay"])
    else:
        cls = torch.optim.AdamW if o["decoupled"] else torch.optim.Adam
        opt = cls(params.values(), lr=sc["lr"], betas=(o["beta1"], o["beta2"]), eps=o["eps"],
                  weight_decay=o["weight_decay"])
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        out = torch_models.graph_forward(graph, t, x, True)
        z, feat = out[output], out[features]
        loss = z.new_zeros(())
        for term in sc["terms"]:
            w = term["weight"]
            if term["kind"] == "xent":
                loss = loss + w * -(targets * F.log_softmax(z, 1)).sum(1).mean()
            elif term["kind"] == "multilabel":
                loss = loss + w * -(multilabel * F.softmax(z, 1)).max(1).values.log().mean()
            elif term["kind"] == "locality":
                loss = loss + w * locality(feat, term["k"])
            elif term["kind"] == "center":
                diff = feat - centres[labels]
                loss = loss + w * 0.5 * (diff ** 2).sum() / n
            elif term["kind"] == "ltnet":
                with torch.no_grad():  # the projection before every forward pass
                    trans.clamp_(min=term["ltnet_min"])
                    trans.div_(trans.sum(2, keepdim=True))
                p = F.softmax(z, 1)
                for c in range(coders):
                    have = coder_labels[:, c] >= 0
                    phat = p[have] @ trans[c]
                    picked = phat.gather(1, coder_labels[have, c:c + 1]).squeeze(1)
                    loss = loss + w * term["coder_weight"][c] * -picked.log().sum() / n
        loss.backward()
        for term in sc["terms"]:
            if term["kind"] == "center":  # Wen et al.'s update, from this step's features
                with torch.no_grad():
                    fd = feat.detach()
                    for j in range(classes):
                        mine = labels == j
                        if mine.any():
                            centres[j] -= term["center_alpha"] * (centres[j] - fd[mine]).sum(0) / (1 + int(mine.sum()))
        opt.step()
        losses.append(float(loss))
    final = dict(t)
    final["ltnet.transitions"], final["center.centres"] = trans.detach(), centres
    return losses, final


failed = 0
for sc in cfg["scenarios"]:
    losses, final = run(sc)
    clfer_losses = np.fromfile(f"{d}/{sc['name']}.losses.f32", dtype=np.float32)
    clfer_final, _ = torch_models.load_safetensors(f"{d}/{sc['name']}.safetensors")
    loss_err = max(abs(a - b) / max(abs(a), 1e-6) for a, b in zip(losses, clfer_losses))
    worst, worst_name = 0.0, ""
    for name, want in final.items():
        got = clfer_final[name].double()
        err = float((got - want.detach()).abs().max() / max(float(want.abs().max()), 1e-6))
        if err > worst:
            worst, worst_name = err, name
    ok = loss_err <= LOSS_RTOL and worst <= PARAM_TOL
    failed += not ok
    print(f"torch_train_parity: {sc['name']:22s} losses {' '.join(f'{v:.6f}' for v in losses)} "
          f"(clfer {' '.join(f'{v:.6f}' for v in clfer_losses)}, rel err {loss_err:.2g}); "
          f"worst tensor {worst_name} {worst:.2g} of its largest value  {'ok' if ok else 'DIFFERS'}")
sys.exit(1 if failed else 0)
