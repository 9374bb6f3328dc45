"""Progress display for fit and evaluate: a tqdm bar per epoch (loss, metrics, samples/s, ETA)
when stdout is a terminal and verbose=1; one plain line per epoch when stdout is a file or a
pipe, or with verbose=2; nothing with verbose=0."""
import sys
import time

from lamina.training.callbacks import Callback

__all__ = ["ProgressBar", "ProgbarLogger", "format_logs"]


def format_logs(logs):
    """'loss: 0.1234 - accuracy: 0.9650 - lr: 0.001' from a logs dict (batch bookkeeping left out)."""
    parts = []
    for key, value in logs.items():
        if key in ("batch", "size", "batch_loss"):
            continue
        parts.append(f"{key}: {value:.4g}" if key == "lr" else f"{key}: {value:.4f}")
    return " - ".join(parts)


class ProgressBar:
    """One pass over the data: start(), update(n_samples, logs) per batch, finish(logs).
    mode 'bar' draws a tqdm bar on stdout, 'line' prints one summary line at finish()."""

    def __init__(self, mode, description, total_samples=None):
        self.mode = mode
        self.description = description
        self.total_samples = total_samples
        self.samples = 0
        self.start_time = time.perf_counter()
        self.bar = None
        if mode == "bar":
            try:
                from tqdm.auto import tqdm
            except ImportError:
                raise ImportError("lamina's progress bar needs tqdm: pip install tqdm (or pass verbose=2 for "
                                  "plain lines)") from None
            self.bar = tqdm(total=total_samples, desc=description, unit=" samples", unit_scale=False, file=sys.stdout,
                            dynamic_ncols=True, leave=True, bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} "
                            "[{elapsed}<{remaining}, {rate_fmt}{postfix}]")

    def update(self, n, logs):
        self.samples += n
        if self.bar is not None:
            self.bar.set_postfix_str(format_logs(logs), refresh=False)
            self.bar.update(n)

    def finish(self, logs):
        elapsed = time.perf_counter() - self.start_time
        if self.bar is not None:
            self.bar.set_postfix_str(format_logs(logs), refresh=False)
            self.bar.close()
        elif self.mode == "line":
            rate = self.samples / elapsed if elapsed > 0 else float("inf")
            print(f"{self.description} - {elapsed:.1f}s - {rate:.0f} samples/s - {format_logs(logs)}", flush=True)


def progress_mode(verbose):
    """'bar', 'line' or None from a verbose level (1: bar on a terminal, else line; 2: line)."""
    if not verbose:
        return None
    if verbose == 1 and sys.stdout.isatty():
        return "bar"
    return "line"


class ProgbarLogger(Callback):
    """fit's progress display: a ProgressBar per epoch ("Epoch 3/10"), finished with the epoch
    logs, validation values included."""

    def __init__(self, verbose=1):
        super().__init__()
        self.mode = progress_mode(verbose)
        self.progress = None

    def on_epoch_begin(self, epoch, logs=None):
        if self.mode:
            self.progress = ProgressBar(self.mode, f"Epoch {epoch + 1}/{self.params['epochs']}",
                                        self.params.get("samples"))

    def on_batch_end(self, batch, logs=None):
        if self.progress:
            self.progress.update(logs["size"], logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.progress:
            self.progress.finish(logs)
            self.progress = None
