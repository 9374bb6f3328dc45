"""Training steps (and a training epoch) of the reference models in Lamina and PyTorch, side by side.

    python bench/compare_torch.py                      # every case, 1 and 2 threads
    python bench/compare_torch.py --cases mlp_b128 --threads 1

Each case runs in a fresh process that builds the same model in both libraries (PyTorch gets
Lamina's initial weights), then times blocks of steps alternating between the two, so that
machine noise falls on both sides alike. A step is forward + loss + backward + optimizer step on
synthetic data; an inference case times a no-grad forward in eval mode; the epoch case times one
pass over 60,000 synthetic MNIST-shaped samples with the README demo's network, as each library's
users write it (Lamina: model.fit; PyTorch: a DataLoader loop), three epochs per side. Each case runs twice:
PyTorch with glibc's malloc tuned (its best figure; the issue's reference) and with the default
malloc. Peak memory (ru_maxrss) comes from one more fresh process per library that imports only
that library and runs its steps alone. OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, which this
machine's environment sets and which halve OpenBLAS's GEMM rate, are unset for the workers.
A 2-thread figure counts only where a 1024^3 matmul scales by at least 1.6x from 1 to 2 threads.
Results: a markdown table on stdout and in bench/results/compare-torch-<date>.md.
"""
import argparse
import datetime
import importlib
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
    "lenet_b64": ("lenet", 64, "sgd", "train"),
    "cifar_cnn_b64": ("cifar_cnn", 64, "adam", "train"),
    "lstm_b32": ("lstm", 32, "adam", "train"),
    "gru_b32": ("gru", 32, "adam", "train"),
    "mlp_infer_b1": ("mlp", 1, None, "infer"),
    "lenet_infer_b1": ("lenet", 1, None, "infer"),
    "mnist_epoch": ("mnist_cnn", 128, "adam", "epoch"),
}
EPOCH_SAMPLES = 60000  # an "epoch" case times one pass over this many synthetic samples


# The reference models, each built from a library's nn namespace (lamina.nn or torch.nn), so
# that both libraries run the same architecture.
def build_mlp(nn):
    """784-512-256-10 with ReLU."""
    return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))


def build_lenet(nn):
    """LeNet-5 on 1x28x28: conv5(6, pad 2)-pool-conv5(16)-pool-120-84-10, ReLU, max pooling."""
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def build_cifar_cnn(nn):
    """3x32x32: two blocks of [conv3-BN-ReLU] x 2 + max pool (32, then 64 channels), 4096-128-10."""
    def block(cin, cout):
        return [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(),
                nn.Conv2d(cout, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(), nn.MaxPool2d(2)]
    return nn.Sequential(*block(3, 32), *block(32, 64), nn.Flatten(), nn.Linear(64 * 8 * 8, 128), nn.ReLU(),
                         nn.Linear(128, 10))


def build_mnist_cnn(nn):
    """The README demo's network (examples/mnist_cnn.py): conv3(16)-pool-conv3(32)-pool-128-10."""
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(32 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))


def build_recurrent(nn, cell):
    """cell(32 -> 128) over (N, 50, 32), batch first; a linear head on the last step's output."""
    class SequenceClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = getattr(nn, cell)(32, 128, batch_first=True)
            self.head = nn.Linear(128, 10)

        def forward(self, x):
            out, _ = self.rnn(x)
            return self.head(out[:, -1])
    return SequenceClassifier()


# model: (builder, input shape of one sample, classes)
MODELS = {
    "mlp": (build_mlp, (784,), 10),
    "lenet": (build_lenet, (1, 28, 28), 10),
    "cifar_cnn": (build_cifar_cnn, (3, 32, 32), 10),
    "mnist_cnn": (build_mnist_cnn, (1, 28, 28), 10),
    "lstm": (lambda nn: build_recurrent(nn, "LSTM"), (50, 32), 10),
    "gru": (lambda nn: build_recurrent(nn, "GRU"), (50, 32), 10),
}


def make_optimizer(lib, name, params):
    if name == "adam":
        return lib.optim.Adam(params, lr=1e-3)
    if name == "sgd":
        return lib.optim.SGD(params, lr=0.01, momentum=0.9)
    return None


def make_step(lib, model, case, x, y):
    """The timed callable: a training step (forward, loss, backward, optimizer step), a forward
    without grad in eval mode, or a training epoch as each library's users write it: Lamina's
    fit (the README demo's call, with its accuracy metric), PyTorch's DataLoader loop."""
    _, batch, opt_name, mode = CASES[case]
    xb, yb = lib.tensor(x), lib.tensor(y)
    if mode == "infer":
        model.eval()

        def run():
            with lib.no_grad():
                model(xb)
        return run
    opt = make_optimizer(lib, opt_name, model.parameters())
    if mode == "epoch" and lib.__name__ == "lamina":
        model.compile(optimizer=opt, loss="cross_entropy", metrics=["accuracy"])
        return lambda: model.fit(xb, yb, batch_size=batch, epochs=1, verbose=0)
    if mode == "epoch":
        loader = lib.utils.data.DataLoader(lib.utils.data.TensorDataset(xb, yb), batch_size=batch, shuffle=True)

        def run():
            for xs, ys in loader:
                loss = lib.nn.functional.cross_entropy(model(xs), ys)
                opt.zero_grad()
                loss.backward()
                opt.step()
        return run

    def run():
        loss = lib.nn.functional.cross_entropy(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return run


def synthetic_batch(case):
    import numpy as np
    model_name, batch, _, mode = CASES[case]
    _, in_shape, classes = MODELS[model_name]
    batch = EPOCH_SAMPLES if mode == "epoch" else batch
    rng = np.random.default_rng(0)
    return rng.standard_normal((batch,) + in_shape).astype(np.float32), rng.integers(0, classes, batch)


def timing_plan(case, blocks, steps):
    """(blocks, steps per block, warm-up steps): an epoch case times one epoch per block."""
    if CASES[case][3] == "epoch":
        return min(blocks, 3), 1, 1
    return blocks, steps, max(3, steps // 4)


def worker(case, threads, blocks, steps):
    """Runs one case in this process, both libraries interleaved, and prints one JSON line."""
    import torch

    import lamina as lm

    lm.set_num_threads(threads)
    torch.set_num_threads(threads)
    build = MODELS[CASES[case][0]][0]
    lm.manual_seed(0)
    lm_model, th_model = build(lm.nn), build(torch.nn)
    th_params = dict(th_model.named_parameters())
    with torch.no_grad():  # PyTorch starts from Lamina's weights
        for name, p in lm_model.named_parameters():
            th_params[name].copy_(torch.from_numpy(p.detach().numpy().copy()))
    x, y = synthetic_batch(case)
    sides = {"lamina": make_step(lm, lm_model, case, x, y), "torch": make_step(torch, th_model, case, x, y)}
    blocks, steps, warmup = timing_plan(case, blocks, steps)
    for run in sides.values():
        for _ in range(warmup):
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
    print(json.dumps(result))


def memory_worker(case, lib_name, steps):
    """Runs one library's steps alone in this process (the other is never imported) and prints
    its peak resident memory in MiB, before and after the steps."""
    import resource
    lib = importlib.import_module(lib_name)
    lib.set_num_threads(1)
    model = MODELS[CASES[case][0]][0](lib.nn)
    x, y = synthetic_batch(case)
    run = make_step(lib, model, case, x, y)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for _ in range(timing_plan(case, 1, steps)[1]):
        run()
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"before": before, "after": after}))


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
    parser.add_argument("--memory-worker", nargs=2, metavar=("CASE", "LIB"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker[0], int(args.worker[1]), args.blocks, args.steps)
        return
    if args.memory_worker:
        memory_worker(args.memory_worker[0], args.memory_worker[1], args.steps)
        return

    one, two = matmul_scaling()
    lines = [f"# Lamina vs PyTorch: training steps, {datetime.date.today()}", "",
             f"- machine: {platform.processor() or platform.machine()}, {os.cpu_count()} logical CPUs",
             f"- 1024^3 matmul: {one:.0f} GFLOP/s at 1 thread, {two:.0f} at 2 "
             f"(scaling {two / one:.2f}x; 2-thread rows count only at >= 1.6x)",
             f"- blocks x steps per side: {args.blocks} x {args.steps}, medians of per-step ms",
             "- peak MiB: ru_maxrss after the steps, each library alone in a fresh process (1 thread, "
             "tuned malloc for PyTorch); in brackets the growth during the steps",
             "- samples/s: Lamina's; an epoch case's ms are per epoch of "
             f"{EPOCH_SAMPLES:,} samples (fit in Lamina, a DataLoader loop in PyTorch)", "",
             "| case | threads | lamina ms | samples/s | torch ms (tuned malloc) | ratio | torch ms (default malloc) "
             "| ratio | lamina peak MiB | torch peak MiB |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
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
            samples = EPOCH_SAMPLES if CASES[case][3] == "epoch" else CASES[case][1]
            cells = [f"{lam:.3f}", f"{samples / lam * 1e3:,.0f}"]
            for tuned in (True, False):
                th = row[tuned]["torch"] if row.get(tuned) else float("nan")
                cells += [f"{th:.3f}", f"{th / lam:.2f}x"]
            for lib in ("lamina", "torch"):
                mem = None
                if threads == args.threads[0]:
                    r = subprocess.run([sys.executable, __file__, "--memory-worker", case, lib, "--steps",
                                        str(args.steps)], capture_output=True, text=True, env=worker_env(True))
                    mem = json.loads(r.stdout.strip().splitlines()[-1]) if r.returncode == 0 else None
                cells.append(f"{mem['after']:.0f} (+{mem['after'] - mem['before']:.0f})" if mem else "")
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
