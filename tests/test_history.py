"""``history_`` records and the ``verbose`` table printed from them."""

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning

from skmlp import ScratchMLPClassifier

RECORD_KEYS = {
    "epoch",
    "loss",
    "validation_score",
    "learning_rate",
    "grad_norm",
    "grad_norms",
    "clip_fraction",
    "seconds",
}


@pytest.fixture
def data(rng):
    X = rng.normal(size=(40, 3))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
    return X, y


def fit_quietly(clf, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return clf.fit(X, y)


@pytest.mark.parametrize("early_stopping", [False, True])
def test_history_records(data, seed, early_stopping):
    X, y = data
    clf = fit_quietly(
        ScratchMLPClassifier(
            (4, 3), max_iter=4, early_stopping=early_stopping, random_state=seed
        ),
        X,
        y,
    )

    assert len(clf.history_) == clf.n_iter_ == 4
    assert len(clf.loss_curve_) == 4
    for epoch, record in enumerate(clf.history_, start=1):
        assert set(record) == RECORD_KEYS
        assert record["epoch"] == epoch
        assert record["loss"] == clf.loss_curve_[epoch - 1]
        # Two weight matrices and two bias vectors per layer pair: 3 layers, 6 groups.
        assert len(record["grad_norms"]) == 6
        assert record["grad_norm"] == max(record["grad_norms"])
        assert 0.0 <= record["clip_fraction"] <= 1.0
        assert record["seconds"] >= 0.0

    validation = [record["validation_score"] for record in clf.history_]
    if early_stopping:
        assert validation == clf.validation_scores_
    else:
        assert validation == [None] * 4


def test_history_global_clipping_one_group(data, seed):
    X, y = data
    clf = fit_quietly(
        ScratchMLPClassifier((4, 3), max_iter=2, clip_mode="global", random_state=seed),
        X,
        y,
    )

    assert all(len(record["grad_norms"]) == 1 for record in clf.history_)


def test_history_dataframe(data, seed):
    X, y = data
    clf = fit_quietly(ScratchMLPClassifier((4,), max_iter=3, random_state=seed), X, y)

    table = pd.DataFrame(clf.history_)

    assert list(table["epoch"]) == [1, 2, 3]
    np.testing.assert_array_equal(table["loss"], clf.loss_curve_)


def test_history_accumulates_with_warm_start(data, seed):
    X, y = data
    clf = ScratchMLPClassifier((4,), max_iter=2, warm_start=True, random_state=seed)
    fit_quietly(clf, X, y)
    fit_quietly(clf, X, y)

    assert [record["epoch"] for record in clf.history_] == [1, 2, 3, 4]
    assert len(clf.loss_curve_) == 4


def test_history_reset_by_new_fit(data, seed):
    X, y = data
    clf = ScratchMLPClassifier((4,), max_iter=2, random_state=seed)
    fit_quietly(clf, X, y)
    fit_quietly(clf, X, y)

    assert [record["epoch"] for record in clf.history_] == [1, 2]


def column_right_edges(line, separator):
    """Return the end offsets of the fields of ``line``, split at ``separator``."""
    return [
        match.end() for match in re.finditer(rf"\S+(?:(?!{separator})\s\S+)*", line)
    ]


@pytest.mark.parametrize("early_stopping", [False, True])
def test_verbose_table(data, seed, capsys, early_stopping):
    X, y = data
    clf = fit_quietly(
        ScratchMLPClassifier(
            (4,),
            max_iter=3,
            verbose=1,
            early_stopping=early_stopping,
            random_state=seed,
        ),
        X,
        y,
    )

    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 + clf.n_iter_
    header, rows = lines[0], lines[1:]
    assert header.split() == [
        "epoch", "train", "loss", "val", "score", "learn", "rate",
        "grad", "norm", "clipped", "seconds",
    ]  # fmt: skip

    # Titles are separated by at least two spaces, and every value ends where
    # its title ends.
    header_edges = column_right_edges(header, "  ")
    for row, record in zip(rows, clf.history_):
        assert column_right_edges(row, " ") == header_edges

        cells = row.split()
        assert cells[0] == str(record["epoch"])
        assert cells[1] == f"{record['loss']:.6f}"
        if early_stopping:
            assert cells[2] == f"{record['validation_score']:.6f}"
        else:
            assert cells[2] == "-"
        assert cells[3] == f"{record['learning_rate']:.3e}"
        assert cells[4] == f"{record['grad_norm']:.3e}"
        assert cells[5] == f"{record['clip_fraction']:.1%}"
        assert float(cells[6]) == pytest.approx(record["seconds"], abs=5e-4)


def test_verbose_off_prints_nothing(data, seed, capsys):
    X, y = data
    fit_quietly(ScratchMLPClassifier((4,), max_iter=2, random_state=seed), X, y)

    assert capsys.readouterr().out == ""
