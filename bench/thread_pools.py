"""Lamina's thread pool at 2 threads: how long its idle OpenMP workers should spin.

    python bench/thread_pools.py

Lamina runs every loop and every GEMM on one OpenMP pool (OpenBLAS is kept single-threaded; see
csrc/core/parallel.h). Between two parallel regions an idle worker spins GOMP_SPINCOUNT times,
then sleeps until the next region wakes it: spinning wastes a core that another process could
use, sleeping costs a wake-up at the next region. Each setting runs in a fresh process (lamina
sets GOMP_SPINCOUNT only where the user has not) and times, at 2 threads and then at 1: a
(128, 4, 14, 14) -> 32 3x3 convolution forward, a 256^3 matmul followed by a 1e5-element add, a
batch-1 MLP forward (compare_torch.py's mlp_infer_b1) and the training steps of compare_torch.py's
CIFAR-style CNN (batch 64) and LSTM (batch 32), Adam. OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are
unset for the workers. Medians in ms; writes bench/results/thread-pools-<date>.md.
"""
import datetime
import json
import os
import statistics
import subprocess
import sys
import time

# (threads, GOMP_SPINCOUNT): libgomp's default, lamina's choice and a shorter spin; then 1 thread.
SETTINGS = ((2, 300000), (2, 10000), (2, 1000), (1, 10000))


def median_ms(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def timed_step(lm, case):
    """compare_torch.py's timed step of `case` (training or inference) in Lamina."""
    from compare_torch import CASES, MODELS, make_step, synthetic_batch
    model = MODELS[CASES[case][0]][0](lm.nn)
    return make_step(lm, model, case, *synthetic_batch(case))


def worker(threads):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import lamina as lm

    lm.set_num_threads(threads)
    conv, x = lm.nn.Conv2d(4, 32, 3, padding=1), lm.randn(128, 4, 14, 14)
    a, b = lm.randn(100000), lm.randn(100000)
    m = lm.randn(256, 256)

    def add_after_gemm():
        m @ m
        a + b

    with lm.no_grad():
        result = {"conv": median_ms(lambda: conv(x), 20), "add_after_gemm": median_ms(add_after_gemm, 200)}
    result["mlp_infer"] = median_ms(timed_step(lm, "mlp_infer_b1"), 2000)
    result["cnn_step"] = median_ms(timed_step(lm, "cifar_cnn_b64"), 10)
    result["lstm_step"] = median_ms(timed_step(lm, "lstm_b32"), 30)
    print(json.dumps(result))


def run(threads, spincount):
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    env["GOMP_SPINCOUNT"] = str(spincount)
    r = subprocess.run([sys.executable, __file__, "--worker", str(threads)], capture_output=True, text=True,
                       env=env, check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        worker(int(sys.argv[2]))
        return
    lines = [f"# Lamina's thread pool: idle spin, {datetime.date.today()}", "",
             f"`python bench/thread_pools.py` on {os.cpu_count()} logical CPUs; medians, ms.", "",
             "| threads | GOMP_SPINCOUNT | conv fwd | matmul 256^3 + add 1e5 | MLP infer b1 | CNN step | LSTM step |",
             "|---:|---:|---:|---:|---:|---:|---:|"]
    for threads, spincount in SETTINGS:
        r = run(threads, spincount)
        lines.append(f"| {threads} | {spincount} | {r['conv']:.2f} | {r['add_after_gemm']:.3f} | {r['mlp_infer']:.4f} "
                     f"| {r['cnn_step']:.1f} | {r['lstm_step']:.2f} |")
        print(lines[-1], flush=True)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results",
                        f"thread-pools-{datetime.date.today()}.md")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"written: {path}")


if __name__ == "__main__":
    main()
