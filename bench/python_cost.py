"""What the Python layer costs: the reference models' steps driven from C++ alone
(lamina_bench_models) against the same steps in Python (compare_torch.py's MODELS and make_step,
lamina only), at 1 thread.

    python bench/python_cost.py --binary build/cpp/bench/lamina_bench_models [--cases ...] [--rounds 5]

First the check: `lamina_bench_models --check` must report the loss going down over 20 steps and
the same input and parameter shapes as the Python model (same shapes, same FLOPs). Then each
round runs every case once per side, each in a fresh process, the sides' order alternating from
round to round; a process times `blocks` blocks of STEPS[case] steps after a warm-up and reports
the median ms per step by the wall clock and by its CPU time (which leaves out the time spent
waiting for a core: the steadier measure on a shared machine). The table gives the median over
the rounds of each side and the median and range of the per-round differences Python - C++ (the
Python layer's cost per step). OPENBLAS_CORETYPE
and OPENBLAS_L2_SIZE (they halve OpenBLAS's GEMM rate on this machine) and GLIBC_TUNABLES are
unset for the children, and both sides get lamina's GOMP_SPINCOUNT. Writes
bench/results/python-cost-<date>.md.
"""
import argparse
import datetime
import os
import re
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_torch import CASES, MODELS, make_step, synthetic_batch, worker_env  # noqa: E402

# Steps per timed block, for blocks of roughly 50-150 ms on this machine.
STEPS = {"mlp_b1": 200, "mlp_b16": 100, "mlp_b128": 20, "lenet_b64": 20, "cifar_cnn_b64": 2, "lstm_b32": 10,
         "gru_b32": 10, "mlp_infer_b1": 2000, "lenet_infer_b1": 2000}


def python_model(case):
    import lamina as lm
    lm.set_num_threads(1)
    lm.manual_seed(0)
    model = MODELS[CASES[case][0]][0](lm.nn)
    x, y = synthetic_batch(case)
    return lm, model, x, y


def worker(case, blocks, steps, warmup):
    """Times the Python step of one case in this process; prints the median ms per step, wall
    clock and CPU time, as lamina_bench_models does."""
    import time
    lm, model, x, y = python_model(case)
    run = make_step(lm, model, case, x, y)
    for _ in range(warmup):
        run()
    wall, cpu = [], []
    for _ in range(blocks):
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for _ in range(steps):
            run()
        wall.append((time.perf_counter() - wall0) / steps * 1e3)
        cpu.append((time.process_time() - cpu0) / steps * 1e3)
    print(statistics.median(wall), statistics.median(cpu))


def shapes_worker(case):
    """Prints the Python model's input and parameter shapes as lamina_bench_models --check does."""
    _, model, x, _ = python_model(case)
    def dims(shape):
        return "x".join(str(d) for d in shape)
    print(f"input {dims(x.shape)}; params {','.join(dims(p.shape) for p in model.parameters())}")


def child_env():
    env = worker_env(False)
    env["GOMP_SPINCOUNT"] = "10000"  # what `import lamina` sets; the C++ side gets it too
    return env


def run_child(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True, env=child_env())
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stdout}{r.stderr}")
    return r.stdout


def check(binary, cases):
    """Runs the C++ check and compares its shapes with the Python models'; returns the report lines."""
    out = run_child([binary, "--check", "--cases", ",".join(cases)])
    lines = []
    for case in cases:
        line = next(l for l in out.splitlines() if l.startswith(f"check {case}:"))
        cpp_shapes = re.search(r"(input [^;]*; params [^;]*)", line).group(1)
        py_shapes = run_child([sys.executable, __file__, "--shapes-worker", case]).strip()
        if cpp_shapes != py_shapes:
            sys.exit(f"{case}: C++ and Python shapes differ:\n  C++:    {cpp_shapes}\n  Python: {py_shapes}")
        losses = re.search(r"loss ([\d. ]+)", line)
        loss = losses.group(1).split() if losses else None
        lines.append(f"| {case} | {cpp_shapes.split(';')[0][6:]} | yes | "
                     + (f"{loss[0]} -> {loss[-1]} |" if loss else "(inference) |"))
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default=os.path.join("build", "cpp", "bench", "lamina_bench_models"))
    parser.add_argument("--cases", nargs="*", default=list(STEPS))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--blocks", type=int, default=7)
    parser.add_argument("--worker", nargs=4, metavar=("CASE", "BLOCKS", "STEPS", "WARMUP"), help=argparse.SUPPRESS)
    parser.add_argument("--shapes-worker", metavar="CASE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        case, blocks, steps, warmup = args.worker
        worker(case, int(blocks), int(steps), int(warmup))
        return
    if args.shapes_worker:
        shapes_worker(args.shapes_worker)
        return

    check_lines = check(args.binary, args.cases)
    times = {case: {"cpp": [], "python": []} for case in args.cases}  # (wall ms, CPU ms) per round
    for rnd in range(args.rounds):
        for case in args.cases:
            steps = STEPS[case]
            plan = [str(args.blocks), str(steps), str(max(3, steps // 4))]
            cmds = {"cpp": [args.binary, "--threads", "1", "--cases", case, "--blocks", plan[0], "--steps", plan[1],
                            "--warmup", plan[2]],
                    "python": [sys.executable, __file__, "--worker", case, *plan]}
            for side in (("cpp", "python") if rnd % 2 == 0 else ("python", "cpp")):
                out = run_child(cmds[side])
                cells = out.split("|")[-3:-1] if side == "cpp" else out.split()
                times[case][side].append(tuple(float(c) for c in cells))
        print(f"round {rnd + 1}/{args.rounds} done", file=sys.stderr, flush=True)

    machine = run_child([args.binary, "--cases", "none"]).splitlines()[0].split(": ", 1)[1]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    lines = [f"# What the Python layer costs: C++ vs Python training steps, {datetime.date.today()}", "",
             f"- machine: {machine} (OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE unset); lamina {commit}",
             f"- {args.rounds} rounds; each side in a fresh process per case and round, sides alternating; "
             f"a process reports the median of {args.blocks} blocks; ms below are medians over the rounds",
             "- Python layer = Python - C++ per step, the median of the per-round differences [their range]; "
             "% = its share of the Python step (CPU time)",
             f"- `python bench/python_cost.py --rounds {args.rounds}`", "",
             "| case | steps per block | C++ ms | Python ms | Python layer us | C++ CPU ms | Python CPU ms "
             "| Python layer CPU us | % of Python step |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for case in args.cases:
        cells = []
        for clock in (0, 1):
            cpp = [t[clock] for t in times[case]["cpp"]]
            py = [t[clock] for t in times[case]["python"]]
            diffs = [(p - c) * 1e3 for c, p in zip(cpp, py)]
            cells += [f"{statistics.median(cpp):.4f}", f"{statistics.median(py):.4f}",
                      f"{statistics.median(diffs):.1f} [{min(diffs):.1f}, {max(diffs):.1f}]"]
        share = statistics.median(diffs) / 1e3 / statistics.median(py) * 100
        lines.append(f"| {case} | {STEPS[case]} | " + " | ".join(cells) + f" | {share:.1f}% |")
    lines += ["", "Check (`lamina_bench_models --check`): input shape; C++ and Python parameter shapes equal; "
              "C++ loss at step 1 -> step 20 on one fixed batch", "",
              "| case | input | same shapes | C++ loss |", "|---|---|---|---|", *check_lines]
    print("\n".join(lines))
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results",
                        f"python-cost-{datetime.date.today()}.md")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"\nwritten: {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
