"""The per-epoch training record and its verbose printout."""

import sys

#: Columns of the verbose table: (key in the record, header, format).
_COLUMNS = (
    ("epoch", "epoch", "{:>6d}"),
    ("loss", "train loss", "{:>11.6f}"),
    ("validation_score", "val score", "{:>10.6f}"),
    ("learning_rate", "learn rate", "{:>11.3e}"),
    ("grad_norm", "grad norm", "{:>10.3e}"),
    ("clip_fraction", "clipped", "{:>8.1%}"),
    ("seconds", "seconds", "{:>8.3f}"),
)


def make_epoch_record(*, epoch, loss, validation_score, learning_rate, stats, seconds):
    """Return the record of one epoch as a dict.

    Parameters
    ----------
    epoch : int
        Epoch number, counted from 1 over the estimator's lifetime.
    loss : float
        Training loss of the epoch.
    validation_score : float or None
        Accuracy on the validation set, or None without early stopping.
    learning_rate : float
        Learning rate used during the epoch.
    stats : dict
        ``grad_norms``, ``n_steps`` and ``n_clipped`` from the training loop.
    seconds : float
        Wall-clock time of the epoch.

    Returns
    -------
    record : dict
        Keys ``epoch``, ``loss``, ``validation_score``, ``learning_rate``,
        ``grad_norm`` (largest pre-clipping norm of any clipping group),
        ``grad_norms`` (largest pre-clipping norm per group, a tuple),
        ``clip_fraction`` (share of updates that clipping rescaled) and
        ``seconds``.
    """
    grad_norms = tuple(float(norm) for norm in stats["grad_norms"])
    n_steps = stats["n_steps"]
    return {
        "epoch": epoch,
        "loss": loss,
        "validation_score": validation_score,
        "learning_rate": learning_rate,
        "grad_norm": max(grad_norms) if grad_norms else 0.0,
        "grad_norms": grad_norms,
        "clip_fraction": stats["n_clipped"] / n_steps if n_steps else 0.0,
        "seconds": seconds,
    }


def print_header(file=None):
    """Print the header of the verbose table."""
    file = sys.stdout if file is None else file
    widths = [len(fmt.format(0 if key == "epoch" else 0.0)) for key, _, fmt in _COLUMNS]
    header = " ".join(
        title.rjust(width) for (_, title, _), width in zip(_COLUMNS, widths)
    )
    print(header, file=file)


def print_record(record, file=None):
    """Print one epoch's record as an aligned row of the verbose table."""
    file = sys.stdout if file is None else file
    cells = []
    for key, _, fmt in _COLUMNS:
        value = record[key]
        if value is None:
            width = len(fmt.format(0.0))
            cells.append("-".rjust(width))
        else:
            cells.append(fmt.format(value))
    print(" ".join(cells), file=file, flush=True)
