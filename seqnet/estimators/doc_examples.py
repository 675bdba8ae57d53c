"""The Examples section of the sequence estimators' docstrings.

One template for every family that reads ``(n_samples, n_timesteps,
n_features)`` sequences, so the examples stay alike and each family only
says which small configuration keeps its doctest fast.  The doctests run in
the suite (``tests/test_doctests.py``): tiny data, a fixed ``random_state``
and a ``max_iter`` the stopping rule ends well before (so no
ConvergenceWarning), and output that does not depend on float rounding.
"""

_HEAD = """
    Examples
    --------
    Random walks of 12 steps: the {task}.

    >>> import numpy as np
    >>> from seqnet import {name}
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(64, 12, 1)).cumsum(axis=1)  # (samples, steps, features)
    >>> y = {target}
    >>> est = {name}({params}max_iter=300, random_state=0).fit(X, y)
"""

_CLASSIFIER_CHECKS = """    >>> est.classes_
    array([0, 1])
    >>> est.predict_proba(X[:2]).shape
    (2, 2)
    >>> est.score(X, y) > 0.9  # training accuracy
    True
"""

_REGRESSOR_CHECKS = """    >>> est.predict(X[:2]).shape
    (2,)
    >>> est.score(X, y) > 0.9  # training R^2
    True
"""


def sequence_example(name, params=""):
    """Numpydoc Examples section for the sequence estimator ``name``.

    Parameters
    ----------
    name : str
        Public class name, ending in ``Classifier`` or ``Regressor``.
    params : str, default=""
        Constructor arguments that keep the example small, each followed by
        ", " (e.g. ``"hidden_layer_sizes=16, "``).

    Returns
    -------
    section : str
        The section, indented for a class docstring.
    """
    if name.endswith("Classifier"):
        task, target = ("classifier learns whether a walk ends above zero",
                        "(X[:, -1, 0] > 0).astype(int)")
        checks = _CLASSIFIER_CHECKS
    else:
        task, target = "regressor learns where a walk ends", "X[:, -1, 0]"
        checks = _REGRESSOR_CHECKS
    return _HEAD.format(task=task, name=name, target=target, params=params) + checks
