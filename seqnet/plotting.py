"""Plots of a fitted estimator's training history, as scikit-learn Display objects.

matplotlib is an optional dependency (the ``plotting`` extra): it is imported
only when something is drawn, so ``import seqnet.plotting`` always works.
"""

import numpy as np
from sklearn.utils.validation import check_is_fitted

__all__ = ["LossCurveDisplay", "check_matplotlib"]


def check_matplotlib(caller):
    """Import ``matplotlib.pyplot`` or raise an ImportError with the install hint.

    Parameters
    ----------
    caller : str
        Name shown in the error message (the function that needs matplotlib).

    Returns
    -------
    plt : module
        ``matplotlib.pyplot``.
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            f"{caller} requires matplotlib. Install it with `pip install matplotlib` "
            "or `pip install seqnet[plotting]`."
        ) from exc
    return plt


class LossCurveDisplay:
    """Training loss per epoch and, with early stopping, the validation score.

    Create it with :meth:`from_estimator` (which also plots) or construct it
    from the arrays and call :meth:`plot`.

    Parameters
    ----------
    loss_curve : array-like of shape (n_epochs,)
        Training loss at the end of every epoch (``loss_curve_``).
    validation_scores : array-like of shape (n_epochs,) or None, default=None
        Validation score after every epoch (``validation_scores_``, present when
        the estimator was fitted with ``early_stopping=True``).
    estimator_name : str or None, default=None
        Used in the title.

    Attributes
    ----------
    ax_ : matplotlib Axes
        The axes of the training loss.
    ax_val_ : matplotlib Axes or None
        The twin axes of the validation score (None without scores).
    figure_ : matplotlib Figure
    lines_ : list of matplotlib Line2D
        The loss line, then the validation line if any.

    Examples
    --------
    >>> from seqnet.plotting import LossCurveDisplay
    >>> disp = LossCurveDisplay.from_estimator(fitted_model)  # doctest: +SKIP
    >>> disp.figure_.savefig("loss.png", dpi=120, bbox_inches="tight")  # doctest: +SKIP
    """

    def __init__(self, loss_curve, validation_scores=None, estimator_name=None):
        self.loss_curve = np.asarray(loss_curve, dtype=float)
        self.validation_scores = (
            None if validation_scores is None else np.asarray(validation_scores, dtype=float)
        )
        self.estimator_name = estimator_name

    @classmethod
    def from_estimator(cls, estimator, ax=None, **kwargs):
        """Plot the history of a fitted seqnet estimator.

        Parameters
        ----------
        estimator : fitted seqnet estimator
            Anything with ``loss_curve_`` (and optionally ``validation_scores_``).
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None.
        **kwargs
            Passed to :meth:`plot` (``loss_kw``, ``val_kw``, ``title``).

        Returns
        -------
        display : LossCurveDisplay
        """
        check_matplotlib(f"{cls.__name__}.from_estimator")
        check_is_fitted(estimator, "loss_curve_")
        display = cls(
            loss_curve=estimator.loss_curve_,
            validation_scores=getattr(estimator, "validation_scores_", None),
            estimator_name=type(estimator).__name__,
        )
        return display.plot(ax=ax, **kwargs)

    def plot(self, ax=None, *, loss_kw=None, val_kw=None, title=None):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None.
        loss_kw, val_kw : dict, default=None
            Keyword arguments for the loss and validation ``Axes.plot`` calls.
        title : str, default=None
            Axes title; the estimator name when None.

        Returns
        -------
        self : LossCurveDisplay
        """
        plt = check_matplotlib(f"{type(self).__name__}.plot")
        if ax is None:
            _, ax = plt.subplots(figsize=(5.5, 3.5))
        epochs = np.arange(1, len(self.loss_curve) + 1)
        loss_line, = ax.plot(epochs, self.loss_curve, **{"color": "C0", "label": "training loss",
                                                         **(loss_kw or {})})
        ax.set_xlabel("epoch")
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # no "epoch 2.5" ticks
        ax.set_ylabel("training loss")
        self.lines_ = [loss_line]
        self.ax_val_ = None
        has_val = self.validation_scores is not None and len(self.validation_scores) > 0
        if has_val:
            # Loss and score live on different scales: a twin y-axis keeps both readable.
            self.ax_val_ = ax.twinx()
            val_line, = self.ax_val_.plot(
                np.arange(1, len(self.validation_scores) + 1), self.validation_scores,
                **{"color": "C1", "label": "validation score", **(val_kw or {})},
            )
            self.ax_val_.set_ylabel("validation score")
            self.lines_.append(val_line)
            # On the twin axes so it is drawn above both lines, and below the axes,
            # outside the data (save with bbox_inches="tight" to keep it).
            self.ax_val_.legend(self.lines_, [ln.get_label() for ln in self.lines_],
                                loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2,
                                frameon=False)
        if title is None and self.estimator_name:
            title = self.estimator_name
        if title:
            ax.set_title(title)
        self.ax_ = ax
        self.figure_ = ax.figure
        return self
