"""Progress reporting: ``verbose=1`` one update per epoch, ``verbose=2`` per batch.

Uses tqdm when it is installed (the ``progress`` extra) and plain lines
otherwise, in scikit-learn's ``Iteration N, loss = ...`` format.  While a
compiling fit runs (cold numba cache), the bar's description (or a plain line)
says "compiling kernels (first run only)" and then how long it took
(``seqnet/training/compiling.py``).

Warnings raised while a tqdm bar is open (a ``ConvergenceWarning`` at the last
epoch, a divergence) are held back and emitted, through the warnings machinery
and its filters, right after the bar is closed: never inside the bar's line.
The bar shows one rate, tqdm's own (epochs or batches per second, or seconds
per epoch when slower).
"""

import sys
import warnings

from .compiling import current_notice


def _tqdm():
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm


class EpochProgress:
    def __init__(self, verbose, max_iter, n_batches):
        self.verbose = int(verbose)
        self.n_batches = n_batches
        self.bar = None
        self._batch_i = 0
        self._held = None  # warnings.catch_warnings holding warnings while the bar is open
        tqdm = _tqdm() if self.verbose else None
        if tqdm is not None:
            total = max_iter * n_batches if self.verbose >= 2 else max_iter
            unit = "batch" if self.verbose >= 2 else "epoch"
            self.bar = tqdm(total=total, unit=unit, file=sys.stdout, leave=True)
            self._held = warnings.catch_warnings(record=True)
            self._caught = self._held.__enter__()
        # a verbose fit's compile notice reports into this bar while it is open
        self.notice = current_notice() if self.verbose else None
        if self.notice is not None:
            self.notice.sink = self

    def compiling(self, text):
        if self.bar is not None:
            self.bar.set_description(text)
        else:
            print(text, flush=True)

    def compiled(self, text):
        self.compiling(text)  # the bar keeps the compile time as its description

    def batch(self, loss):
        if self.verbose < 2:
            return
        self._report_compiled()
        self._batch_i += 1
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(loss=f"{loss:.4f}", refresh=False)
        else:
            print(f"  batch {self._batch_i}, loss = {loss:.8f}")

    def epoch(self, n_iter, loss, val_score, seconds):
        if not self.verbose:
            return
        self._report_compiled()
        text = f"loss = {loss:.8f}"
        if val_score is not None:
            text += f", validation score = {val_score:.6f}"
        if self.bar is not None:
            if self.verbose == 1:
                self.bar.update(1)
            post = {"loss": f"{loss:.4f}"}  # the rate is tqdm's own
            if val_score is not None:
                post["val"] = f"{val_score:.4f}"
            self.bar.set_postfix(post)
        else:
            print(f"Iteration {n_iter}, {text}, time = {seconds:.3f}s")

    def _report_compiled(self):
        if self.notice is not None:
            self.notice.flush()

    def close(self):
        if self.notice is not None:
            self.notice.flush()
            self.notice.sink = None
        if self.bar is not None:
            self.bar.close()
        if self._held is not None:
            held, caught = self._held, self._caught
            self._held = None
            held.__exit__(None, None, None)
            for w in caught:  # now below the closed bar
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno,
                                       source=w.source)
