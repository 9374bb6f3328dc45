"""Recurrent layers against PyTorch: one training step (forward, backward of a sum, Adam update)
of LSTM and GRU layers with input 32, hidden 128, sequence 50, batch 32 (time-major), in lamina
and PyTorch in the same process, same weights, at 1 thread (then 2), the two frameworks
interleaved step by step; the figure is the median over the timed steps in milliseconds.

    python bench/rnn_layer.py [--steps 30] [--threads 1 2]

Each thread count runs in a fresh worker process whose environment sets OPENBLAS_NUM_THREADS and
OMP_NUM_THREADS before any library loads.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

I, H, T, N = 32, 128, 50, 32
CASES = ("LSTM", "GRU")


def worker(threads, steps):
    import numpy as np
    import torch

    import lamina
    from lamina.nn import rnn as R
    from lamina.optim import Adam

    torch.set_num_threads(threads)
    lamina.set_num_threads(threads)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((T, N, I)).astype(np.float32)
    results = {}
    for case in CASES:
        th = getattr(torch.nn, case)(I, H)
        ours = getattr(R, case)(I, H)
        with lamina.no_grad():
            for p, q in zip(ours.parameters(), th.parameters()):
                p.copy_(lamina.tensor(q.detach().numpy()))
        th_opt, lm_opt = torch.optim.Adam(th.parameters(), lr=1e-3), Adam(ours.parameters(), lr=1e-3)
        xt, xl = torch.tensor(x), lamina.tensor(x)

        def th_step():
            th_opt.zero_grad()
            out, _ = th(xt)
            out.sum().backward()
            th_opt.step()

        def lm_step():
            lm_opt.zero_grad()
            out, _ = ours(xl)
            out.sum().backward()
            lm_opt.step()

        sides = {"lamina": lm_step, "torch": th_step}
        for f in sides.values():  # warm up
            for _ in range(3):
                f()
        times = {name: [] for name in sides}
        for s in range(steps):
            for name in (list(sides) if s % 2 == 0 else list(reversed(sides))):
                t0 = time.perf_counter()
                sides[name]()
                times[name].append(time.perf_counter() - t0)
        results[case] = {name: 1e3 * statistics.median(v) for name, v in times.items()}
    print(json.dumps(results))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        worker(args.worker, args.steps)
        return
    import torch

    import lamina
    print(f"# LSTM / GRU training step (input {I}, hidden {H}, seq {T}, batch {N}, Adam), median ms per step")
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, lamina {lamina.__version__}, "
          f"torch {torch.__version__}")
    print("| layer | threads | lamina ms | torch ms | lamina / torch |")
    print("|---|---|---|---|---|")
    for threads in args.threads:
        env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
        out = subprocess.run([sys.executable, __file__, "--worker", str(threads), "--steps", str(args.steps)],
                             env=env, capture_output=True, text=True, check=True).stdout
        for case, r in json.loads(out.strip().splitlines()[-1]).items():
            print(f"| {case} | {threads} | {r['lamina']:.2f} | {r['torch']:.2f} | {r['lamina'] / r['torch']:.2f} |")


if __name__ == "__main__":
    main()
