"""One 3x3 convolution layer against PyTorch and against the BLAS: forward + backward (input,
weight and bias gradients) of conv2d with N=64, C=64 -> 64, 32x32, padding 1, in lamina and
PyTorch in the same process at 1 thread, the two interleaved; the figure is the median time and
the GFLOP/s it gives (2 N OC OH OW C 3 3 flops per direction, 3 directions). The OpenBLAS sgemm
rate at the same thread count (lamina.mm, through the same library) is the ceiling.

    python bench/conv_layer.py [--reps 15] [--threads 1]

The machine's environment sets OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, which halve the GEMM rate;
the script re-runs itself without them (and with OMP/OPENBLAS thread counts set) before any
library loads.
"""
import argparse
import os
import platform
import statistics
import sys
import time

N, C, OC, H, W, K = 64, 64, 64, 32, 32, 3
UNSET = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def clean_environment(threads):
    """Re-executes this script with the BLAS variables unset and the thread counts fixed."""
    want = {"OMP_NUM_THREADS": str(threads), "OPENBLAS_NUM_THREADS": str(threads)}
    if any(v in os.environ for v in UNSET) or any(os.environ.get(k) != v for k, v in want.items()):
        env = {k: v for k, v in os.environ.items() if k not in UNSET}
        env.update(want)
        os.execve(sys.executable, [sys.executable, *sys.argv], env)


def median_ms(samples):
    return 1e3 * statistics.median(samples)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    clean_environment(args.threads)

    import numpy as np
    import torch

    import lamina
    from lamina.nn import _functional_conv as F

    torch.set_num_threads(args.threads)
    lamina.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, C, H, W)).astype(np.float32)
    w = (rng.standard_normal((OC, C, K, K)) / np.sqrt(C * K * K)).astype(np.float32)
    b = rng.standard_normal(OC).astype(np.float32)
    g = rng.standard_normal((N, OC, H, W)).astype(np.float32)

    lx, lw, lb = (lamina.tensor(a, requires_grad=True) for a in (x, w, b))
    lg = lamina.tensor(g)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    tg = torch.tensor(g)

    def step_lamina():
        lx.grad = lw.grad = lb.grad = None
        F.conv2d(lx, lw, lb, padding=1).backward(lg)

    def step_torch():
        tx.grad = tw.grad = tb.grad = None
        torch.nn.functional.conv2d(tx, tw, tb, padding=1).backward(tg)

    def forward_lamina():
        with lamina.no_grad():
            F.conv2d(lx, lw, lb, padding=1)

    def forward_torch():
        with torch.no_grad():
            torch.nn.functional.conv2d(tx, tw, tb, padding=1)

    # same results first
    step_lamina(), step_torch()
    for ours, ref in ((lx, tx), (lw, tw), (lb, tb)):
        np.testing.assert_allclose(ours.grad.numpy(), ref.grad.numpy(), rtol=1e-3, atol=1e-2)

    times = {name: [] for name in ("lamina", "torch", "lamina_fwd", "torch_fwd")}
    for _ in range(args.reps):
        for name, fn in (("lamina", step_lamina), ("torch", step_torch), ("lamina_fwd", forward_lamina),
                         ("torch_fwd", forward_torch)):
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)

    # the BLAS ceiling: sgemm on the forward's GEMM shape (OC x C K K x H W per image) and on a square one
    def gemm_rate(m, n, k, reps=10):
        a = lamina.tensor(rng.standard_normal((m, k)).astype(np.float32))
        bm = lamina.tensor(rng.standard_normal((k, n)).astype(np.float32))
        lamina.mm(a, bm)
        samples = []
        for _ in range(reps):
            t0 = time.perf_counter()
            lamina.mm(a, bm)
            samples.append(time.perf_counter() - t0)
        return 2 * m * n * k / statistics.median(samples) / 1e9

    flop_fwd = 2 * N * OC * H * W * C * K * K
    flop_step = 3 * flop_fwd
    print(f"conv2d 3x3: N={N}, C={C} -> {OC}, {H}x{W}, padding 1, float32, {args.threads} thread(s)")
    print(f"machine: {platform.processor() or platform.machine()}, torch {torch.__version__}, "
          f"lamina {lamina.__version__}, {time.strftime('%Y-%m-%d')}")
    for label, key, flop in (("forward", "_fwd", flop_fwd), ("forward+backward", "", flop_step)):
        ours, ref = median_ms(times["lamina" + key]), median_ms(times["torch" + key])
        print(f"{label:17s} lamina {ours:8.1f} ms {flop / ours / 1e6:6.1f} GFLOP/s | torch {ref:8.1f} ms "
              f"{flop / ref / 1e6:6.1f} GFLOP/s | lamina/torch time {ours / ref:.2f}")
    print(f"OpenBLAS sgemm: {gemm_rate(OC, H * W, C * K * K):.1f} GFLOP/s at ({OC} x {C * K * K}) @ "
          f"({C * K * K} x {H * W}), {gemm_rate(1024, 1024, 1024):.1f} GFLOP/s at 1024^3")


if __name__ == "__main__":
    main()
