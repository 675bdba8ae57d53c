"""Learning-rate schedules, one object for every rule that changes the rate.

- constant: ``learning_rate_init`` throughout.
- invscaling (scikit-learn): ``learning_rate_init / (t + 1) ** power_t`` with
  ``t`` the number of samples seen, updated after every batch.
- adaptive (scikit-learn): constant while the loss improves; each time
  ``n_iter_no_change`` epochs fail to improve by ``tol`` the rate is divided by
  5, and training stops once it would fall below 1e-6.
- cyclic (Smith 2017, "triangular"): the rate moves linearly from
  ``learning_rate_init`` up to ``max_learning_rate`` and back over
  ``cycle_length`` epochs' worth of batches, repeating.
"""


class LearningRateSchedule:
    def __init__(self, kind, learning_rate_init, power_t=0.5, max_learning_rate=None,
                 cycle_iterations=1):
        self.kind = kind
        self.learning_rate_init = float(learning_rate_init)
        self.learning_rate = float(learning_rate_init)
        self.power_t = float(power_t)
        self.max_learning_rate = (
            10.0 * self.learning_rate_init if max_learning_rate is None
            else float(max_learning_rate)
        )
        self.cycle_iterations = max(2, int(cycle_iterations))

    def batch_end(self, samples_seen, updates_done):
        """Update the rate after a batch (``samples_seen`` is the estimator's ``t_``)."""
        if self.kind == "invscaling":
            self.learning_rate = self.learning_rate_init / (samples_seen + 1) ** self.power_t
        elif self.kind == "cyclic":
            half = self.cycle_iterations / 2.0
            phase = (updates_done % self.cycle_iterations) / half  # in [0, 2)
            frac = phase if phase <= 1.0 else 2.0 - phase
            self.learning_rate = self.learning_rate_init + frac * (
                self.max_learning_rate - self.learning_rate_init
            )

    def trigger_stopping(self, verbose=False):
        """Called when the loss has stalled; True means stop training."""
        if self.kind != "adaptive":
            return True
        if self.learning_rate <= 1e-6:
            return True
        self.learning_rate /= 5.0
        if verbose:
            print(f"Setting learning rate to {self.learning_rate:f}")
        return False
