"""Docstrings assembled from shared pieces, without silent string patching.

Where several functions document the same parameters or sections, the text
is written once and named as a ``str.format`` field; :func:`fill_doc` puts
it in.  The fields a docstring names and the ones given must be the same
set, so renaming or dropping a field on either side raises at import
instead of leaving a gap or a stray ``{name}`` in the help.
"""

import string

__all__ = ["fill_doc"]


def fill_doc(template=None, **fields):
    """Decorator: the function's docstring with ``fields`` filled in.

    Parameters
    ----------
    template : str or None, default=None
        The docstring to fill; None fills the function's own docstring.
        Literal braces in it are written doubled (``{{``), as for
        ``str.format``.
    **fields : str
        The text of each field the template names.

    Returns
    -------
    decorate : callable
        Sets ``__doc__`` on the function it is given and returns it.

    Raises
    ------
    TypeError
        If the template names a field not given, or a field given is not named.
    """

    def decorate(func):
        text = func.__doc__ if template is None else template
        named = {name for _, name, _, _ in string.Formatter().parse(text) if name}
        if named != set(fields):
            raise TypeError(f"{func.__qualname__}: docstring fields "
                            f"{sorted(named ^ set(fields))} are not both named and given")
        func.__doc__ = text.format(**fields)
        return func

    return decorate
