"""Conversion of input values to the model's dtype, with overflow detected.

A float64 value beyond about 3.4e38 becomes infinite in float32. Training
checks the whole of ``X`` once before its first epoch, with
:func:`check_fits`. Prediction converts one chunk at a time and lets numpy
report the overflow of each conversion instead, which costs no extra pass
over ``X``.
"""

import numpy as np


def check_fits(values, dtype):
    """Raise ValueError if a value of the array ``values`` overflows ``dtype``.

    Only the largest and the smallest value are converted, so no converted
    copy of ``values`` is made. A value overflows if it becomes infinite, as
    in :func:`cast`: one that rounds to the largest finite value of ``dtype``
    fits.
    """
    dtype = np.dtype(dtype)
    if values.dtype.itemsize <= dtype.itemsize or values.size == 0:
        return

    cast(np.array([np.max(values), np.min(values)]), dtype)


def cast_into(out, values):
    """Copy ``values`` into ``out``, converted to its dtype.

    Raises
    ------
    ValueError
        If a finite value becomes infinite in the conversion.
    """
    try:
        with np.errstate(over="raise"):
            np.copyto(out, values, casting="same_kind")
    except FloatingPointError:
        raise overflow_error(out.dtype) from None
    return out


def cast(values, dtype):
    """Return ``values`` converted to ``dtype``, itself if it has that dtype.

    Raises
    ------
    ValueError
        If a finite value becomes infinite in the conversion.
    """
    if values.dtype == dtype:
        return values
    return cast_into(np.empty(values.shape, dtype=dtype), values)


def overflow_error(dtype):
    """Return the error for input values too large for the model's ``dtype``."""
    dtype = np.dtype(dtype)
    return ValueError(
        f"X contains values too large for {dtype.name}, the dtype of the model "
        f"(largest finite {dtype.name} is {np.finfo(dtype).max:.3g}). Scale X, "
        "or use a float64 model."
    )
