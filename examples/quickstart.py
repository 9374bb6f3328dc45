"""Quickstart: fit a small two-layer network to y = sin(3x) with Lamina's autograd and a
hand-written SGD step, printing the loss as it falls.

    python examples/quickstart.py

Everything here is plain tensors: parameters are leaves with requires_grad=True, the forward
pass records the graph, loss.backward() fills .grad, and the update runs under no_grad.
(Layers, losses and optimizers as modules come with lamina.nn and lamina.optim.)
"""
import math
import time

import lamina as lm


def main(steps=600, hidden=32, lr=0.1, seed=0):
    lm.manual_seed(seed)
    x = lm.linspace(-1, 1, 256).unsqueeze(1)           # (256, 1)
    y = lm.tensor([[math.sin(3 * v)] for v in x.reshape(-1).tolist()])  # (256, 1)

    # parameters, initialised like nn.Linear: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    w1 = ((lm.rand(1, hidden) * 2 - 1) * 1.0).requires_grad_()
    b1 = ((lm.rand(hidden) * 2 - 1) * 1.0).requires_grad_()
    w2 = ((lm.rand(hidden, 1) * 2 - 1) / math.sqrt(hidden)).requires_grad_()
    b2 = ((lm.rand(1) * 2 - 1) / math.sqrt(hidden)).requires_grad_()
    params = [w1, b1, w2, b2]

    start = time.perf_counter()
    for step in range(steps + 1):
        pred = (x @ w1 + b1).tanh() @ w2 + b2             # (256, 1)
        loss = ((pred - y) ** 2).mean()
        loss.backward()
        with lm.no_grad():
            for p in params:
                p -= lr * p.grad
                p.grad = None
        if step % 100 == 0:
            print(f"step {step:4d}  loss {loss.item():.6f}")
    print(f"{steps} steps in {time.perf_counter() - start:.2f} s")
    return loss.item()


if __name__ == "__main__":
    main()
