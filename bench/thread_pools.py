"""Lamina's two thread pools at 2 threads: OpenMP (our loops) and OpenBLAS's pthreads (GEMM).

    python bench/thread_pools.py

Each setting of OPENBLAS_THREAD_TIMEOUT (2^value idle cycles before an OpenBLAS worker sleeps;
28 is OpenBLAS's default, lamina sets 14 unless the user has) and GOMP_SPINCOUNT (spins before an
idle OpenMP worker sleeps; libgomp's default is 300000, lamina sets 10000) runs in a fresh process
at 2 threads, timing ops that alternate between the pools: a
(128, 4, 14, 14) -> 32 3x3 convolution forward, a 1e5-element add right after a GEMM, a 256^3
matmul, and a training step of compare_torch.py's CIFAR-style CNN (batch 64, Adam); and the same
CNN step at 1 thread. OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset for the workers. Medians
in ms; writes bench/results/thread-pools-<date>.md.
"""
import datetime
import json
import os
import statistics
import subprocess
import sys
import time

# (threads, OPENBLAS_THREAD_TIMEOUT, GOMP_SPINCOUNT): both libraries' defaults, then lamina's choice
# and its neighbours, then lamina at 1 thread.
SETTINGS = ((2, 28, 300000), (2, 28, 10000), (2, 4, 10000), (2, 14, 10000), (1, 14, 10000))


def median_ms(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def worker(threads):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import lamina as lm
    from compare_torch import MODELS

    lm.set_num_threads(threads)
    conv, x = lm.nn.Conv2d(4, 32, 3, padding=1), lm.randn(128, 4, 14, 14)
    a, b = lm.randn(100000), lm.randn(100000)
    m = lm.randn(256, 256)

    def add_after_gemm():
        m @ m
        a + b

    build, in_shape, classes = MODELS["cifar_cnn"]
    model = build(lm.nn)
    opt = lm.optim.Adam(model.parameters(), lr=1e-3)
    xb, yb = lm.randn(64, *in_shape), lm.randint(0, classes, (64,))

    def cnn_step():
        loss = lm.nn.functional.cross_entropy(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()

    with lm.no_grad():
        result = {"conv": median_ms(lambda: conv(x), 20), "add_after_gemm": median_ms(add_after_gemm, 200),
                  "mm256": median_ms(lambda: m @ m, 200)}
    result["cnn_step"] = median_ms(cnn_step, 10)
    print(json.dumps(result))


def run(threads, timeout, spincount):
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    env["OPENBLAS_THREAD_TIMEOUT"] = str(timeout)
    env["GOMP_SPINCOUNT"] = str(spincount)
    r = subprocess.run([sys.executable, __file__, "--worker", str(threads)], capture_output=True, text=True,
                       env=env, check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        worker(int(sys.argv[2]))
        return
    lines = [f"# Two thread pools at 2 threads, {datetime.date.today()}", "",
             f"`python bench/thread_pools.py` on {os.cpu_count()} logical CPUs; medians, ms.", "",
             "| threads | OPENBLAS_THREAD_TIMEOUT | GOMP_SPINCOUNT | conv fwd | matmul 256^3 + add 1e5 "
             "| matmul 256^3 | CNN step |",
             "|---:|---:|---:|---:|---:|---:|---:|"]
    for threads, timeout, spincount in SETTINGS:
        r = run(threads, timeout, spincount)
        lines.append(f"| {threads} | {timeout} | {spincount} | {r['conv']:.2f} | {r['add_after_gemm']:.3f} | {r['mm256']:.3f} "
                     f"| {r['cnn_step']:.1f} |")
        print(lines[-1], flush=True)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results",
                        f"thread-pools-{datetime.date.today()}.md")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"written: {path}")


if __name__ == "__main__":
    main()
