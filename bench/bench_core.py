"""Python-side figures of the core: lamina.matmul against numpy.matmul, and the cost of tiny ops.

(a) float32 1024x1024 @ 1024x1024 in GFLOP/s (2 n^3 / median time), lamina and NumPy in the same
    process at the same thread count (1, then 2), calls interleaved. Each thread count runs in a
    fresh worker process whose environment sets OPENBLAS_NUM_THREADS before any BLAS loads and
    drops OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE (this machine pins them), so that both OpenBLAS
    libraries pick their own kernel; threadpoolctl, when installed, enforces and reports it.
(b) Median microseconds per call of tiny ops (10-element float32) in lamina, PyTorch and NumPy,
    timed with timeit, the frameworks interleaved repeat by repeat.
(c) Median milliseconds of large elementwise kernels at 1 thread, lamina and PyTorch interleaved:
    randn and rand of 1M samples (float32, float64), and dropout (p = 0.5, training) and the
    activations' forward on a (128, 16, 28, 28) float32 tensor (the MNIST net's first activation).
Writes bench/results/core-<date>.md. Usage: python bench/bench_core.py [--quick]
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
import timeit

MATMUL_N = 1024
THREAD_COUNTS = (1, 2)
RESULTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


# --- (a) matmul, run in a worker process per thread count ---------------------------------------

def matmul_worker(threads, repeats):
    """Times lamina.matmul and numpy.matmul alternately; prints one JSON object."""
    import numpy as np
    import lamina
    try:
        from threadpoolctl import threadpool_info, threadpool_limits
    except ImportError:
        threadpool_info = threadpool_limits = None

    if threadpool_limits is not None:
        threadpool_limits(threads, user_api="blas")
    lamina.set_num_threads(threads)
    rng = np.random.default_rng(0)
    a = rng.standard_normal((MATMUL_N, MATMUL_N), dtype=np.float32)
    b = rng.standard_normal((MATMUL_N, MATMUL_N), dtype=np.float32)
    la, lb = lamina.from_numpy(a), lamina.from_numpy(b)
    sides = {"lamina": lambda: lamina.matmul(la, lb), "numpy": lambda: np.matmul(a, b)}
    diff = float(np.abs(sides["lamina"]().numpy() - sides["numpy"]()).max())
    for f in sides.values():  # warm up: thread pools, page faults of the output buffers
        for _ in range(3):
            f()
    times = {name: [] for name in sides}
    for r in range(repeats):
        order = list(sides) if r % 2 == 0 else list(reversed(sides))
        for name in order:
            t0 = time.perf_counter()
            sides[name]()
            times[name].append(time.perf_counter() - t0)
    flops = 2.0 * MATMUL_N ** 3
    blas = []
    if threadpool_info is not None:
        blas = [{k: info.get(k) for k in ("filepath", "version", "architecture", "num_threads", "threading_layer")}
                for info in threadpool_info() if info["user_api"] == "blas"]
    print(json.dumps({
        "threads": threads,
        "lamina_threads": lamina.get_num_threads(),
        "max_abs_diff": diff,
        "median_gflops": {k: flops / statistics.median(v) / 1e9 for k, v in times.items()},
        "best_gflops": {k: flops / min(v) / 1e9 for k, v in times.items()},
        "blas": blas,
    }))


def run_matmul(threads, repeats):
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("OPENBLAS_L2_SIZE", None)
    env["OPENBLAS_NUM_THREADS"] = env["OMP_NUM_THREADS"] = str(threads)
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--matmul-worker", str(threads),
                          "--repeats", str(repeats)], env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- (b) tiny ops -------------------------------------------------------------------------------

SMALL_OPS = [  # (label, statement); setup makes a, b (10 float32) and ga, gb (requiring grad)
    ("a + b", "a + b"),
    ("a * 2.0", "a * 2.0"),
    ("a.sum()", "a.sum()"),
    ("(a + b).sum().backward()", "(ga + gb).sum().backward()"),
]


def small_op_setups():
    import numpy as np
    import torch
    import lamina
    x = np.arange(10, dtype=np.float32)
    return {
        "lamina": dict(a=lamina.tensor(x), b=lamina.tensor(x), ga=lamina.tensor(x, requires_grad=True),
                       gb=lamina.tensor(x, requires_grad=True)),
        "torch": dict(a=torch.tensor(x), b=torch.tensor(x), ga=torch.tensor(x, requires_grad=True),
                      gb=torch.tensor(x, requires_grad=True)),
        "numpy": dict(a=x.copy(), b=x.copy()),
    }


def run_small_ops(number, repeats):
    """Median µs per call for each (op, framework); None where the framework lacks the op."""
    setups = small_op_setups()
    results = {}
    for label, stmt in SMALL_OPS:
        timers = {fw: timeit.Timer(stmt, globals=g) for fw, g in setups.items() if "backward" not in stmt or fw != "numpy"}
        for t in timers.values():
            t.timeit(number // 10)  # warm up
        samples = {fw: [] for fw in timers}
        for _ in range(repeats):
            for fw, t in timers.items():
                samples[fw].append(t.timeit(number) / number * 1e6)
        results[label] = {fw: statistics.median(s) for fw, s in samples.items()}
    return results


# --- (c) large elementwise kernels at 1 thread ---------------------------------------------------

KERNELS = ["randn float32", "randn float64", "rand float32", "rand float64", "dropout", "relu", "leaky_relu", "elu",
           "selu", "gelu", "gelu tanh", "silu", "softplus", "mish", "hardtanh", "sigmoid", "tanh"]


def kernel_calls(lib, x):
    """label -> a call of lib (lamina or torch) on x (or making 1M normal or uniform samples)."""
    F = lib.nn.functional
    calls = {"randn float32": lambda: lib.randn(1_000_000), "randn float64": lambda: lib.randn(1_000_000, dtype=lib.float64),
             "rand float32": lambda: lib.rand(1_000_000), "rand float64": lambda: lib.rand(1_000_000, dtype=lib.float64),
             "dropout": lambda: F.dropout(x, 0.5, True), "gelu tanh": lambda: F.gelu(x, approximate="tanh")}
    for name in KERNELS:
        if name not in calls:
            fn = getattr(F, name)
            calls[name] = lambda fn=fn: fn(x)
    return calls


def run_kernels(repeats):
    import numpy as np
    import torch
    import lamina
    before = lamina.get_num_threads(), torch.get_num_threads()
    lamina.set_num_threads(1)
    torch.set_num_threads(1)
    x = np.random.default_rng(0).standard_normal((128, 16, 28, 28), dtype=np.float32)
    sides = {"lamina": kernel_calls(lamina, lamina.tensor(x)), "torch": kernel_calls(torch, torch.tensor(x))}
    results = {}
    for name in KERNELS:
        samples = {lib: [] for lib in sides}
        for r in range(repeats):
            for lib in (sides if r % 2 == 0 else reversed(list(sides))):
                t0 = time.perf_counter()
                sides[lib][name]()
                samples[lib].append((time.perf_counter() - t0) * 1e3)
        results[name] = {lib: statistics.median(v[1:]) for lib, v in samples.items()}  # the first call warms up
    lamina.set_num_threads(before[0])
    torch.set_num_threads(before[1])
    return results


# --- report -------------------------------------------------------------------------------------

def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def versions():
    import numpy as np
    import torch
    import lamina
    import scipy_openblas32
    blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    return {
        "python": platform.python_version(),
        "lamina": lamina.__version__,
        "numpy": np.__version__,
        "torch": torch.__version__,
        "lamina OpenBLAS (scipy-openblas32)": scipy_openblas32.get_openblas_config().strip(),
        "numpy OpenBLAS": blas.get("openblas configuration", blas.get("version", "?")),
    }


def write_report(date, matmul, small, small_threads, number, repeats, kernels, load):
    lines = [f"# Lamina core benchmarks, {date}", ""]
    lines += [f"- machine: {cpu_model()}, {os.cpu_count()} logical CPUs ({platform.machine()}, {platform.system()})",
              f"- load average (1 min) before / after: {load[0]:.2f} / {load[1]:.2f}"]
    lines += [f"- {k}: {v}" for k, v in versions().items()]
    lines += ["", f"## matmul float32 {MATMUL_N}x{MATMUL_N} @ {MATMUL_N}x{MATMUL_N} (GFLOP/s, higher is better)", "",
              "Same process, same thread count, calls interleaved; OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset.",
              "Other work on the machine (see the load average) lowers the absolute figures, most at 2 threads;",
              "interleaving keeps the lamina / numpy ratio fair.", "",
              "| threads | lamina median | numpy median | lamina / numpy | lamina best | numpy best | max abs diff |",
              "|---:|---:|---:|---:|---:|---:|---:|"]
    for m in matmul:
        med, best = m["median_gflops"], m["best_gflops"]
        lines.append(f"| {m['threads']} | {med['lamina']:.1f} | {med['numpy']:.1f} | {med['lamina'] / med['numpy']:.1%} "
                     f"| {best['lamina']:.1f} | {best['numpy']:.1f} | {m['max_abs_diff']:.1e} |")
    lines += ["", "BLAS libraries in the worker (threadpoolctl):", ""]
    blas = matmul[-1]["blas"]
    if not blas:
        lines.append("- threadpoolctl not installed: kernel not reported")
    for info in blas:
        lines.append(f"- {os.path.basename(info['filepath'])}: OpenBLAS {info['version']}, kernel {info['architecture']}, "
                     f"{info['threading_layer']}, num_threads {info['num_threads']}")
    lines += ["", f"## tiny ops, 10-element float32 (median µs per call, lower is better; {small_threads} threads)", "",
              f"timeit, {number} calls per sample, median of {repeats} samples, frameworks interleaved.", "",
              "| op | lamina | torch | numpy | lamina / torch |", "|---|---:|---:|---:|---:|"]
    for label, r in small.items():
        numpy_us = f"{r['numpy']:.3f}" if "numpy" in r else "-"
        lines.append(f"| `{label}` | {r['lamina']:.3f} | {r['torch']:.3f} | {numpy_us} | {r['lamina'] / r['torch']:.2f} |")
    lines += ["", "## large elementwise kernels, 1 thread (median ms per call, lower is better)", "",
              "randn, rand: 1M samples; dropout (p = 0.5) and activations: forward on a (128, 16, 28, 28)",
              "float32 tensor. Lamina and PyTorch alternate call by call.", "",
              "| kernel | lamina | torch | torch / lamina |", "|---|---:|---:|---:|"]
    for label, r in kernels.items():
        lines.append(f"| {label} | {r['lamina']:.3f} | {r['torch']:.3f} | {r['torch'] / r['lamina']:.2f}x |")
    os.makedirs(RESULTS_DIR, exist_ok=True)
    path = os.path.join(RESULTS_DIR, f"core-{date}.md")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path, "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run)")
    parser.add_argument("--matmul-worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=30, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.matmul_worker is not None:
        matmul_worker(args.matmul_worker, args.repeats)
        return
    load_before = os.getloadavg()[0]
    matmul_repeats, number, repeats = (5, 2000, 3) if args.quick else (40, 20000, 15)
    matmul = [run_matmul(t, matmul_repeats) for t in THREAD_COUNTS]
    import lamina
    import torch
    small_threads = lamina.get_num_threads()
    torch.set_num_threads(small_threads)
    small = run_small_ops(number, repeats)
    kernels = run_kernels(5 if args.quick else 21)
    date = datetime.date.today().isoformat()
    path, report = write_report(date, matmul, small, small_threads, number, repeats, kernels,
                                (load_before, os.getloadavg()[0]))
    print(report)
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
