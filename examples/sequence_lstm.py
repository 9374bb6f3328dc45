"""Sequence classification with an LSTM: scikit-learn's bundled handwritten digits (1797 images
of 8x8 pixels, shipped with the package, no download), read row by row as sequences of 8 steps
of 8 features. An LSTM(8 -> 64) reads the rows; a linear layer maps its last hidden state to the
10 classes. Adam, cross-entropy, mini-batches of 64, a fixed 80/20 split.

    python examples/sequence_lstm.py

Reaches 98.3% test accuracy (354 of 360 digits) after 20 epochs with seed 0 at 1 thread (98.6%
at 2 threads, where summation orders differ; 96.7% and 97.8% with seeds 1 and 2), in about 0.3 s
of training at 1 thread on a 2-core x86 machine. Every time step runs inside lamina's one C++
LSTM op (forward and backward through time); no Python loop over the rows.
"""
import time

import numpy as np
from sklearn.datasets import load_digits

import lamina as lm


class RowLSTM(lm.nn.Module):
    """(N, 8 rows, 8 pixels) -> LSTM over the rows -> last hidden state -> (N, 10) logits."""

    def __init__(self, hidden=64, classes=10):
        super().__init__()
        self.lstm = lm.nn.LSTM(8, hidden, batch_first=True)
        self.head = lm.nn.Linear(hidden, classes)

    def forward(self, x):
        _, (h_n, _) = self.lstm(x)     # h_n (1, N, hidden)
        return self.head(h_n[0])


def load_split(seed):
    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)         # (1797, 8, 8) in [0, 1]
    y = digits.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(x))
    cut = int(0.8 * len(x))
    return x[order[:cut]], y[order[:cut]], x[order[cut:]], y[order[cut:]]


def accuracy(model, x, y):
    model.eval()
    with lm.no_grad():
        pred = model(lm.tensor(x)).argmax(1).numpy()
    model.train()
    return float((pred == y).mean())


def main(epochs=20, batch_size=64, lr=1e-2, seed=0):
    lm.manual_seed(seed)
    x_train, y_train, x_test, y_test = load_split(seed)
    model = RowLSTM()
    optimizer = lm.optim.Adam(model.parameters(), lr=lr)
    loss_fn = lm.nn.CrossEntropyLoss()
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(x_train))
        total = 0.0
        for i in range(0, len(order), batch_size):
            idx = order[i:i + batch_size]
            loss = loss_fn(model(lm.tensor(x_train[idx])), lm.tensor(y_train[idx]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
        if epoch % 5 == 0 or epoch == 1:
            print(f"epoch {epoch:2d}  loss {total / len(order):.4f}  test accuracy {accuracy(model, x_test, y_test):.4f}")
    acc = accuracy(model, x_test, y_test)
    print(f"test accuracy {acc:.4f} ({len(y_test)} digits) after {epochs} epochs, "
          f"{time.perf_counter() - start:.1f} s of training")
    return acc


if __name__ == "__main__":
    main()
