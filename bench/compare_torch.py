"""Training steps of the reference models in Lamina and PyTorch, side by side.

    python bench/compare_torch.py                      # every case, 1 and 2 threads
    python bench/compare_torch.py --cases mlp_b128 --threads 1

Each case runs in a fresh process that builds the same model in both libraries (PyTorch gets
Lamina's initial weights), then times blocks of steps alternating between the two, so that
machine noise falls on both sides alike. A step is forward + loss + backward + optimizer step on
synthetic data. Each case runs twice: PyTorch with glibc's malloc tuned (its best figure; the
issue's reference) and with the default malloc. OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, which
this machine's environment sets and which halve OpenBLAS's GEMM rate, are unset for the workers.
A 2-thread figure counts only where a 1024^3 matmul scales by at least 1.6x from 1 to 2 threads.
Results: a markdown table on stdout and in bench/results/compare-torch-<date>.md.
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time

TUNED_MALLOC = "glibc.malloc.mmap_threshold=4294967295:glibc.malloc.trim_threshold=4294967295"

# name: (model, batch, optimizer, what is timed)
CASES = {
    "mlp_b1": ("mlp", 1, "adam", "train"),
    "mlp_b16": ("mlp", 16, "adam", "train"),
    "mlp_b128": ("mlp", 128, "adam", "train"),
    "mlp_infer_b1": ("mlp", 1, None, "infer"),
}


def build_mlp(nn):
    """784-512-256-10 with ReLU."""
    return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))


MODELS = {"mlp": (build_mlp, (784,), 10)}


def make_optimizer(lib, name, params):
    if name == "adam":
        return lib.optim.Adam(params, lr=1e-3)
    if name == "sgd":
        return lib.optim.SGD(params, lr=0.01, momentum=0.9)
    return None


def worker(case, threads, blocks, steps):
    """Runs one case in this process and prints one JSON line of results."""
    import numpy as np
    import torch

    import lamina as lm

    lm.set_num_threads(threads)
    torch.set_num_threads(threads)
    model_name, batch, opt_name, mode = CASES[case]
    build, in_shape, classes = MODELS[model_name]
    lm.manual_seed(0)
    lm_model, th_model = build(lm.nn), build(torch.nn)
    with torch.no_grad():
        for (_, p), (_, tp) in zip(lm_model.named_parameters(), th_model.named_parameters()):
            tp.copy_(torch.from_numpy(p.detach().numpy().copy()))
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch,) + in_shape).astype(np.float32)
    y = rng.integers(0, classes, batch)
    sides = {}
    for name, lib, model in (("lamina", lm, lm_model), ("torch", torch, th_model)):
        xb, yb = lib.tensor(x), lib.tensor(y)
        opt = make_optimizer(lib, opt_name, model.parameters())
        if mode == "infer":
            model.eval()

            def run(model=model, xb=xb, lib=lib):
                with lib.no_grad():
                    model(xb)
        else:
            def run(model=model, xb=xb, yb=yb, opt=opt, lib=lib):
                loss = lib.nn.functional.cross_entropy(model(xb), yb)
                opt.zero_grad()
                loss.backward()
                opt.step()
        sides[name] = run
    for run in sides.values():  # warm up
        for _ in range(max(3, steps // 4)):
            run()
    times = {name: [] for name in sides}
    order = list(sides)
    for block in range(blocks):
        for name in (order if block % 2 == 0 else order[::-1]):
            start = time.perf_counter()
            for _ in range(steps):
                sides[name]()
            times[name].append((time.perf_counter() - start) / steps * 1e3)
    result = {name: statistics.median(t) for name, t in times.items()}
    result["batch"] = batch
    print(json.dumps(result))


def matmul_scaling():
    """GFLOP/s of a 1024^3 float32 matmul at 1 and 2 threads (the machine's scaling check)."""
    code = ("import time, lamina as lm\n"
            "a = lm.randn(1024, 1024); b = lm.randn(1024, 1024)\n"
            "out = []\n"
            "for t in (1, 2):\n"
            "    lm.set_num_threads(t); a @ b\n"
            "    best = min(__import__('timeit').repeat(lambda: a @ b, number=5, repeat=5)) / 5\n"
            "    out.append(2 * 1024**3 / best / 1e9)\n"
            "print(out[0], out[1])\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=worker_env(False))
    one, two = map(float, r.stdout.split())
    return one, two


def worker_env(tuned):
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    if tuned:
        env["GLIBC_TUNABLES"] = TUNED_MALLOC
    else:
        env.pop("GLIBC_TUNABLES", None)
    return env


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="*", default=list(CASES))
    parser.add_argument("--threads", nargs="*", type=int, default=[1, 2])
    parser.add_argument("--blocks", type=int, default=9)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--worker", nargs=2, metavar=("CASE", "THREADS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker[0], int(args.worker[1]), args.blocks, args.steps)
        return

    one, two = matmul_scaling()
    lines = [f"# Lamina vs PyTorch: training steps, {datetime.date.today()}", "",
             f"- machine: {platform.processor() or platform.machine()}, {os.cpu_count()} logical CPUs",
             f"- 1024^3 matmul: {one:.0f} GFLOP/s at 1 thread, {two:.0f} at 2 "
             f"(scaling {two / one:.2f}x; 2-thread rows count only at >= 1.6x)",
             f"- blocks x steps per side: {args.blocks} x {args.steps}, medians of per-step ms", "",
             "| case | threads | lamina ms | torch ms (tuned malloc) | ratio | torch ms (default malloc) | ratio |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    print("\n".join(lines), flush=True)
    for threads in args.threads:
        for case in args.cases:
            row = {}
            for tuned in (True, False):
                r = subprocess.run([sys.executable, __file__, "--worker", case, str(threads), "--blocks",
                                    str(args.blocks), "--steps", str(args.steps)],
                                   capture_output=True, text=True, env=worker_env(tuned))
                if r.returncode != 0:
                    row[tuned] = None
                    print(f"{case}: worker failed: {r.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
                    continue
                row[tuned] = json.loads(r.stdout.strip().splitlines()[-1])
            if not row.get(True):
                continue
            lam = statistics.median([row[t]["lamina"] for t in row if row[t]])
            cells = [f"{lam:.3f}"]
            for tuned in (True, False):
                th = row[tuned]["torch"] if row.get(tuned) else float("nan")
                cells += [f"{th:.3f}", f"{th / lam:.2f}x"]
            line = f"| {case} | {threads} | " + " | ".join(cells) + " |"
            lines.append(line)
            print(line, flush=True)
    os.makedirs(os.path.join(os.path.dirname(__file__), "results"), exist_ok=True)
    path = os.path.join(os.path.dirname(__file__), "results", f"compare-torch-{datetime.date.today()}.md")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"\nwritten: {path}")


if __name__ == "__main__":
    main()
