"""Reading a series for ``seqnet forecast``: a CSV column (delimiter
detected), an optional date column, and the dates' frequency.

Errors are :class:`CLIError`: one line that says what to change.  Only the
standard library is imported at module level.
"""

import csv
import math


class CLIError(Exception):
    """A user error: reported as one line on stderr, exit status 2."""


# -- CSV input ----------------------------------------------------------------


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_series(path, column=None):
    """Read one numeric column of a CSV file (with or without a header row).

    The same as :func:`read_dated_series` without the dates and delimiter.
    """
    values, name, _, _ = read_dated_series(path, column)
    return values, name


_DATE_NAMES = ("date", "time", "timestamp", "datetime", "month", "period", "ds", "year")


def _parse_dates(cells, name):
    """The cells as a datetime64 array, or None if any is not a date."""
    import numpy as np

    cells = [c.strip() for c in cells]
    if not cells:
        return None
    if all(c.isdigit() and len(c) == 4 for c in cells):  # a column of years
        if name is None or name.strip().lower() not in _DATE_NAMES:
            return None
    try:
        dates = np.array([np.datetime64(c.replace(" ", "T", 1)) for c in cells])
    except ValueError:
        return None
    if len(dates) > 1 and not np.all(dates[1:] > dates[:-1]):
        return None
    return dates


def read_dated_series(path, column=None):
    """Read one numeric column of a CSV file, its date column and its delimiter.

    The delimiter (``,``, ``;``, tab or ``|``) is detected from the file. The
    date column is the first other column whose every cell is an ISO date
    (``1949-01``, ``1949-01-31``, ``2020-01-01 13:00``), or a column of years
    named ``year`` / ``date``, in increasing order.

    Parameters
    ----------
    path : str
        CSV file.
    column : str or None, default=None
        Column name (if the file has a header) or 0-based index. None means the
        last column, which fits the common ``time,value`` layout.

    Returns
    -------
    values : ndarray of shape (n,)
        The column as float64.
    name : str
        The column name (or ``"column <i>"`` without a header).
    dates : ndarray of datetime64 of shape (n,) or None
        The date of each value, None when no column holds dates.
    delimiter : str
        The delimiter found.

    Raises
    ------
    CLIError
        If the file cannot be read, the column is missing, or a value in it is
        empty or not a finite number.
    """
    import numpy as np

    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            text = f.read()
        try:
            delimiter = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
        rows = [r for r in csv.reader(text.splitlines(), delimiter=delimiter)
                if r and any(c.strip() for c in r)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise CLIError(f"cannot read {path!r}: {reason}") from None
    if not rows:
        raise CLIError(f"{path!r} is empty")

    # A first row with any non-numeric cell is a header.
    header = None if all(_is_number(c) for c in rows[0]) else [c.strip() for c in rows[0]]
    body = rows[1:] if header else rows
    start_line = 2 if header else 1
    width = len(header) if header else len(rows[0])

    if column is None:
        idx = width - 1
    elif header and column in header:
        idx = header.index(column)
    elif column.lstrip("-").isdigit() and -width <= int(column) < width:
        idx = int(column) % width
    else:
        cols = ", ".join(header) if header else f"{width} unnamed columns"
        raise CLIError(f"column {column!r} not found in {path!r} (columns: {cols}; "
                       f"delimiter {delimiter!r} found)")
    name = header[idx] if header else f"column {idx}"

    values = []
    for lineno, row in enumerate(body, start=start_line):
        cell = row[idx].strip() if idx < len(row) else ""
        try:
            v = float(cell)
        except ValueError:
            v = math.nan
        if not math.isfinite(v):
            shown = cell if cell else "<empty>"
            hint = ""
            if width == 1 and any(d in cell for d in ",;\t|"):
                hint = "; is the file delimited by another character?"
            elif delimiter != "," and "," in cell:
                hint = "; use '.' as the decimal mark"
            raise CLIError(
                f"non-numeric value {shown!r} in column {name!r} of {path!r} at line "
                f"{lineno} (delimiter {delimiter!r} found{hint})"
            )
        values.append(v)
    if not values:
        raise CLIError(f"{path!r} has no data rows")
    dates = None
    for j in range(width):
        if j == idx:
            continue
        dates = _parse_dates([r[j] if j < len(r) else "" for r in body],
                             header[j] if header else None)
        if dates is not None:
            break
    return np.asarray(values, dtype=np.float64), name, dates, delimiter


# (frequency name, days between values, season length or None)
_FREQUENCIES = (
    ("hourly", 1 / 24, 24),
    ("daily", 1, 7),
    ("weekly", 7, 52),
    ("monthly", 30.44, 12),
    ("quarterly", 91.31, 4),
    ("yearly", 365.25, None),
)


def infer_frequency(dates):
    """The frequency of increasing dates and its season length.

    Parameters
    ----------
    dates : ndarray of datetime64
        At least two increasing dates.

    Returns
    -------
    name : str or None
        "hourly", "daily", "weekly", "monthly", "quarterly" or "yearly"; None
        when the median spacing matches none of them within 10%.
    period : int or None
        Season length: 24, 7, 52, 12, 4; None for yearly or unknown data.
    """
    import numpy as np

    if len(dates) < 2:
        return None, None
    secs = np.diff(dates.astype("datetime64[s]").astype(np.int64))
    days = float(np.median(secs)) / 86400.0
    for name, spacing, period in _FREQUENCIES:
        tol = 0.1 * spacing if name not in ("monthly", "quarterly") else 0.08 * spacing
        if abs(days - spacing) <= tol:
            return name, period
    return None, None


def future_dates(dates, steps, frequency):
    """The ``steps`` dates after the last one, at the data's frequency."""
    import numpy as np

    last = dates[-1]
    k = np.arange(1, steps + 1)
    if frequency in ("monthly", "quarterly") and np.datetime_data(dates.dtype)[0] in ("D", "M"):
        months = k * (3 if frequency == "quarterly" else 1)
        month = last.astype("datetime64[M]")
        day = (last.astype("datetime64[D]") - month.astype("datetime64[D]")).astype(int)
        month_end = (last + np.timedelta64(1, "D")).astype("datetime64[M]") != month \
            if np.datetime_data(dates.dtype)[0] == "D" else False
        if np.datetime_data(dates.dtype)[0] == "M":
            return month + months
        if month_end:
            return (month + months + 1).astype("datetime64[D]") - np.timedelta64(1, "D")
        return (month + months).astype("datetime64[D]") + np.timedelta64(int(day), "D")
    if frequency == "yearly" and np.datetime_data(dates.dtype)[0] == "Y":
        return last + k
    step = np.median(np.diff(dates))
    return last + k * step


def format_dates(dates):
    """ISO strings at the unit the dates were written in."""
    import numpy as np

    return list(np.datetime_as_string(dates))
