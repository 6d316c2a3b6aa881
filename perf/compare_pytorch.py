#!/usr/bin/env python3
"""clfer against PyTorch on the same device class, in one run: VGG13-FER+ (1x64x64, 8 classes)
training images/s per batch size, inference images/s, single-image latency (mean, p99), and on a
GPU AlexNet (torchvision form, 224) and ResNet-18 training at batch 128.

clfer's figures come from perf/bench_ops (passed by path; run with --json); PyTorch's from the
same network built in tests/scripts/torch_models.py (module names match clfer's zoo), timed the
same way: warm-up steps, then N steps between synchronisations. On CUDA PyTorch runs twice: fp32
with TF32 off (the like-for-like figure) and with PyTorch's default TF32 settings.
Ratios are "clfer speed / PyTorch speed": > 1 means clfer is faster (for latency: PyTorch's
time / clfer's time).

  /usr/bin/python3 perf/compare_pytorch.py build/bench_ops --quick            # PoCL vs CPU torch
  python3 perf/compare_pytorch.py build/bench_ops --alexnet --resnet18       # GPU host
"""
import argparse
import json
import math
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "scripts"))


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("bench_ops", help="path to clfer's bench_ops binary")
    ap.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto",
                    help="PyTorch device (auto: cuda when available); clfer gets 'gpu' or 'cpu' to match")
    ap.add_argument("--clfer-device", help="clfer device selector (default: gpu for cuda, cpu otherwise)")
    ap.add_argument("--batches", default="32,64,256", help="VGG13-FER+ training batch sizes")
    ap.add_argument("--steps", type=int, default=10, help="timed steps per figure")
    ap.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    ap.add_argument("--infer-batch", type=int, default=256, help="inference batch (0 skips)")
    ap.add_argument("--latency", type=int, default=100, help="single-image runs (0 skips)")
    ap.add_argument("--alexnet", action="store_true", help="AlexNet (torchvision form, 224) training, batch 128")
    ap.add_argument("--resnet18", action="store_true", help="ResNet-18 (224) training, batch 128")
    ap.add_argument("--big-batch", type=int, default=128, help="batch for --alexnet / --resnet18")
    ap.add_argument("--threads", type=int, default=0, help="PyTorch CPU threads (default: all cores)")
    ap.add_argument("--no-tf32-default", action="store_true", help="CUDA: skip the default-TF32 PyTorch run")
    ap.add_argument("--cudnn-benchmark", action="store_true", help="CUDA: torch.backends.cudnn.benchmark = True")
    ap.add_argument("--skip-clfer", action="store_true", help="PyTorch figures only")
    ap.add_argument("--skip-torch", action="store_true", help="clfer figures only")
    ap.add_argument("--quick", action="store_true",
                    help="--batches 32 --steps 3 --warmup 1 --infer-batch 32 --latency 10 (for 2-core CPUs)")
    ap.add_argument("--json", metavar="FILE", help="also write every figure to FILE")
    a = ap.parse_args()
    if a.quick:
        a.batches, a.steps, a.warmup, a.infer_batch, a.latency = "32", 3, 1, 32, 10
    a.batch_list = [int(b) for b in a.batches.split(",") if b]
    return a


# ---- clfer -------------------------------------------------------------------------------------

def run_clfer(a, clfer_device, model="vgg13_ferplus", size=None, batches=None, infer=True):
    cmd = [a.bench_ops, "--json", "--no-conv", "--device", clfer_device, "--model", model,
           "--steps", str(a.steps), "--warmup", str(a.warmup),
           "--batches", ",".join(str(b) for b in (batches or a.batch_list)),
           "--infer-batch", str(a.infer_batch if infer else 0), "--latency", str(a.latency if infer else 0)]
    if size:
        cmd += ["--size", str(size)]
    print("+ " + " ".join(cmd), file=sys.stderr, flush=True)
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out)


# ---- PyTorch -----------------------------------------------------------------------------------

def torch_setup(a):
    import torch
    dev = a.device
    if dev == "auto":
        dev = "cuda" if torch.cuda.is_available() else "cpu"
    if dev == "cpu":
        torch.set_num_threads(a.threads or os.cpu_count())
    if a.cudnn_benchmark:
        torch.backends.cudnn.benchmark = True
    return torch, dev


def set_tf32(torch, mode, defaults):
    if mode == "fp32":
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    else:  # PyTorch's defaults, as found at start-up
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = defaults


def sync(torch, dev):
    if dev == "cuda":
        torch.cuda.synchronize()


def torch_train(torch, dev, model, batch, shape, classes, steps, warmup):
    import torch.nn as nn
    model.to(dev).train()
    opt = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9)
    crit = nn.CrossEntropyLoss()
    g = torch.Generator().manual_seed(5)
    x = (torch.rand((batch,) + shape, generator=g) * 2 - 1).to(dev)
    y = (torch.arange(batch) % classes).to(dev)
    t0 = 0.0
    for s in range(warmup + steps):
        if s == warmup:
            sync(torch, dev)
            t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = crit(model(x), y)
        loss.backward()
        opt.step()
    sync(torch, dev)
    sec = (time.perf_counter() - t0) / steps
    if not math.isfinite(loss.item()):
        raise RuntimeError("PyTorch loss is not finite")
    return {"batch": batch, "step_ms": sec * 1e3, "images_per_s": batch / sec}


def torch_infer(torch, dev, model, batch, shape, steps, warmup, latency_runs):
    model.to(dev).eval()
    res = {}
    with torch.no_grad():
        if batch > 0:
            x = torch.rand((batch,) + shape, device=dev)
            for _ in range(warmup):
                model(x)
            sync(torch, dev)
            t0 = time.perf_counter()
            for _ in range(steps):
                model(x)
            sync(torch, dev)
            res["infer"] = {"batch": batch, "images_per_s": batch * steps / (time.perf_counter() - t0)}
        if latency_runs > 0:
            x = torch.rand((1,) + shape, device=dev)
            for _ in range(3):
                model(x)
            sync(torch, dev)
            t = []
            for _ in range(latency_runs):
                t0 = time.perf_counter()
                model(x)
                sync(torch, dev)
                t.append((time.perf_counter() - t0) * 1e3)
            t.sort()
            res["latency"] = {"runs": latency_runs, "mean_ms": sum(t) / len(t),
                              "p99_ms": t[max(0, math.ceil(0.99 * len(t)) - 1)]}
    return res


def import_torchvision(a):
    """torchvision for the AlexNet and ResNet-18 peers, or None (those rows then show '-')."""
    if not (a.alexnet or a.resnet18):
        return None
    try:
        import torchvision
        return torchvision
    except ImportError as e:
        print(f"torchvision is not importable ({e}): no PyTorch figures for AlexNet or ResNet-18 "
              "(Debian: apt-get install python3-torchvision)", file=sys.stderr)
        return None


def run_torch(a, torch, dev, mode, defaults, torchvision):
    import torch_models
    if dev == "cuda":
        set_tf32(torch, mode, defaults)
    torch.manual_seed(1)
    res = {"train": [], "infer": None, "latency": None, "big": {}}
    shape = (1, 64, 64)
    for b in a.batch_list:
        print(f"torch {mode}: vgg13_ferplus training batch {b}", file=sys.stderr, flush=True)
        res["train"].append(torch_train(torch, dev, torch_models.vgg13_ferplus(1, 8, 64), b, shape, 8, a.steps,
                                        a.warmup))
    print(f"torch {mode}: vgg13_ferplus inference / latency", file=sys.stderr, flush=True)
    res.update(torch_infer(torch, dev, torch_models.vgg13_ferplus(1, 8, 64), a.infer_batch, shape, a.steps, a.warmup,
                           a.latency))
    for name, flag in (("alexnet", a.alexnet), ("resnet18", a.resnet18)):
        if not flag or torchvision is None:
            continue
        model = getattr(torchvision.models, name)(num_classes=1000)
        print(f"torch {mode}: {name} training batch {a.big_batch}", file=sys.stderr, flush=True)
        res["big"][name] = torch_train(torch, dev, model, a.big_batch, (3, 224, 224), 1000, a.steps, a.warmup)
    return res


# ---- table -------------------------------------------------------------------------------------

def fmt(v, digits=1):
    return "-" if v is None else f"{v:,.{digits}f}"


def main():
    a = parse_args()
    torch = None
    dev = "cpu" if a.device == "auto" else a.device
    if not a.skip_torch:
        try:
            torch, dev = torch_setup(a)
        except ImportError as e:
            print(f"PyTorch is not importable ({e}); clfer figures only", file=sys.stderr)
    clfer_device = a.clfer_device or ("gpu" if dev == "cuda" else "cpu")

    results = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "loadavg": os.getloadavg(),
               "clfer": None, "torch": {}}
    if not a.skip_clfer:
        c = run_clfer(a, clfer_device)
        c["big"] = {}
        if a.alexnet:
            c["big"]["alexnet"] = run_clfer(a, clfer_device, "alexnet_tv", 224, [a.big_batch], False)["train"][0]
        if a.resnet18:
            c["big"]["resnet18"] = run_clfer(a, clfer_device, "resnet18", 224, [a.big_batch], False)["train"][0]
        results["clfer"] = c
    if torch is not None:
        results["torch_version"] = torch.__version__
        results["torch_device"] = torch.cuda.get_device_name() if dev == "cuda" else f"cpu, {torch.get_num_threads()} threads"
        modes = ["fp32"] if dev == "cpu" or a.no_tf32_default else ["fp32", "default"]
        defaults = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32) if dev == "cuda" else None
        torchvision = import_torchvision(a)
        for mode in modes:
            results["torch"][mode] = run_torch(a, torch, dev, mode, defaults, torchvision)
        if dev == "cuda":
            results["torch_tf32_defaults"] = {"matmul": defaults[0], "cudnn": defaults[1]}

    c = results["clfer"] or {}
    modes = list(results["torch"])
    print(f"\n{results['date']}, load average {' '.join(f'{x:.2f}' for x in results['loadavg'])}")
    if c:
        print(f"clfer: {c['device']} ({c['platform']}, driver {c['driver']})")
    if torch is not None:
        print(f"PyTorch {results['torch_version']} on {results['torch_device']}"
              + (f"; default TF32: matmul {defaults[0]}, cudnn {defaults[1]}" if dev == "cuda" else ""))
    head = f"{'figure':<38} {'clfer':>12}"
    for m in modes:
        head += f" {'torch ' + m:>14} {'ratio':>7}"
    print(head)

    def row(label, clfer_v, torch_vs, inverse=False):
        line = f"{label:<38} {fmt(clfer_v, 3 if inverse else 1):>12}"
        for tv in torch_vs:
            ratio = None
            if clfer_v and tv:
                ratio = tv / clfer_v if inverse else clfer_v / tv
            line += f" {fmt(tv, 3 if inverse else 1):>14} {fmt(ratio, 2):>7}"
        print(line)

    def pick(res, key, batch=None, field="images_per_s"):
        if not res:
            return None
        v = res.get(key)
        if isinstance(v, list):
            v = next((e for e in v if e["batch"] == batch), None)
        return v.get(field) if v else None

    T = results["torch"]
    for b in a.batch_list:
        row(f"vgg13_ferplus train b{b} img/s", pick(c, "train", b), [pick(T[m], "train", b) for m in modes])
    if a.infer_batch > 0:
        row(f"vgg13_ferplus infer b{a.infer_batch} img/s", pick(c, "infer"), [pick(T[m], "infer") for m in modes])
    if a.latency > 0:
        row("vgg13_ferplus latency b1 mean ms", pick(c, "latency", field="mean_ms"),
            [pick(T[m], "latency", field="mean_ms") for m in modes], inverse=True)
        row("vgg13_ferplus latency b1 p99 ms", pick(c, "latency", field="p99_ms"),
            [pick(T[m], "latency", field="p99_ms") for m in modes], inverse=True)
    for name, label in (("alexnet", "alexnet 224"), ("resnet18", "resnet18 224")):
        if getattr(a, name):
            cv = c.get("big", {}).get(name, {}).get("images_per_s") if c else None
            row(f"{label} train b{a.big_batch} img/s", cv,
                [T[m]["big"].get(name, {}).get("images_per_s") for m in modes])
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
