"""Input and API edges of the estimator: a single class, validation splits too
small for early stopping, labels in their own domain, sparse data within the
memory bound and predictions in bounded chunks."""

import tracemalloc
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from sklearn import config_context
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning

import skmlp._prediction
from skmlp import ScratchMLPClassifier
from skmlp._training import MiniBatchTrainer


def fit_quietly(estimator, X, y, **fit_params):
    """Fit, ignoring the ConvergenceWarning of short runs."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y, **fit_params)


@pytest.mark.parametrize(
    "y, shown",
    [
        (np.zeros(10), "0.0"),
        (np.array(["yes"] * 10), "'yes'"),
        (pd.Series(["yes"] * 10, dtype="str"), "'yes'"),
        (np.full(10, 7), "7"),
    ],
    ids=["float", "str", "pandas-str", "int"],
)
def test_fit_one_class_rejected(y, shown, monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(MiniBatchTrainer, "run_epoch", fail)
    estimator = ScratchMLPClassifier()

    with pytest.raises(ValueError, match=rf"only one class \({shown}\)"):
        estimator.fit(np.ones((10, 2)), y)
    assert not hasattr(estimator, "coefs_")


@pytest.mark.parametrize(
    "y, fraction, match",
    [
        (np.arange(9) % 3, 0.1, r"sets aside 1 of 9 rows.*30 rows in all"),
        (np.array([0] * 20 + [1] * 20 + [2]), 0.2, r"smallest of 1 rows"),
        (np.array([0, 0, 1, 1]), 0.1, r"sets aside 1 of 4 rows.*20 rows in all"),
        (
            np.array([0] * 2 + [1] * 29 + [2] * 29),
            0.1,
            r"no validation rows of class 0",
        ),
        (np.array([0] * 3 + [1] * 30), 0.9, r"no training rows of class 0"),
    ],
    ids=[
        "three-classes-nine-rows",
        "single-member",
        "tiny",
        "rounded-out",
        "no-training",
    ],
)
def test_early_stopping_split_too_small(y, fraction, match, seed):
    X = np.random.default_rng(seed).standard_normal((len(y), 2))
    estimator = ScratchMLPClassifier(
        early_stopping=True, validation_fraction=fraction, random_state=seed
    )

    with pytest.raises(ValueError, match=match) as error:
        estimator.fit(X, y)
    assert f"validation_fraction={fraction}" in str(error.value)


@pytest.mark.parametrize("fraction", [0.1, 0.25, 0.5, 0.9])
def test_early_stopping_split_advice_suffices(fraction, seed):
    # The error advises a number of rows per class; that many rows must fit.
    with pytest.raises(ValueError, match="rows per class") as error:
        ScratchMLPClassifier(early_stopping=True, validation_fraction=fraction).fit(
            np.zeros((3, 2)), [0, 1, 2]
        )
    per_class = int(str(error.value).split(" rows per class")[0].split()[-1])
    y = np.repeat([0, 1, 2], per_class)
    X = np.random.default_rng(seed).standard_normal((len(y), 2))
    estimator = ScratchMLPClassifier(
        (3,),
        early_stopping=True,
        validation_fraction=fraction,
        max_iter=2,
        random_state=seed,
    )

    fit_quietly(estimator, X, y)

    assert len(estimator.validation_scores_) == 2


def test_early_stopping_multilabel_too_small():
    y = np.array([[1, 0]])
    estimator = ScratchMLPClassifier(early_stopping=True)

    with pytest.raises(ValueError, match="validation_fraction=0.1"):
        estimator.fit(np.ones((1, 2)), y)


def test_early_stopping_multilabel_fits(seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((20, 3))
    y = np.column_stack([X[:, 0] > 0, X[:, 1] > 0]).astype(int)
    estimator = ScratchMLPClassifier(
        (4,),
        early_stopping=True,
        validation_fraction=0.2,
        max_iter=3,
        random_state=seed,
    )

    fit_quietly(estimator, X, y)

    assert estimator.predict(X).shape == (20, 2)
    assert len(estimator.validation_scores_) == 3


LABEL_DOMAINS = {
    "str": np.array(["cat", "dog", "eel"]),
    "pandas-str": pd.array(["cat", "dog", "eel"], dtype="str"),
    "plus-minus-one": np.array([-1, 1]),
    "bool": np.array([False, True]),
    "sparse-ints": np.array([3, 7, 11]),
}


@pytest.mark.parametrize("domain", sorted(LABEL_DOMAINS))
@pytest.mark.parametrize("early_stopping", [False, True])
def test_labels_keep_their_domain(domain, early_stopping, seed):
    values = LABEL_DOMAINS[domain]
    X, codes = make_blobs(
        n_samples=60, centers=len(values), cluster_std=0.5, random_state=seed
    )
    y = pd.Series(values[codes]) if domain == "pandas-str" else values[codes]
    estimator = ScratchMLPClassifier(
        (8,),
        solver="adam",
        learning_rate_init=0.05,
        max_iter=30,
        early_stopping=early_stopping,
        validation_fraction=0.2,
        random_state=seed,
    )

    fit_quietly(estimator, X, y)
    predicted = estimator.predict(X)
    proba = estimator.predict_proba(X)

    expected_classes = np.sort(np.asarray(values))
    assert estimator.classes_.tolist() == expected_classes.tolist()
    assert set(predicted.tolist()) <= set(expected_classes.tolist())
    # Column j of predict_proba is the probability of classes_[j].
    np.testing.assert_array_equal(
        estimator.classes_[np.argmax(proba, axis=1)], predicted
    )
    # The blobs are separable, so the labels themselves come back.
    assert np.mean(predicted == np.asarray(y)) > 0.9


def sparse_problem(rng, n_samples=2000, n_features=300):
    """A sparse binary problem whose dense copy takes about 4.6 MiB."""
    X = sparse.random(
        n_samples, n_features, density=0.02, format="csr", random_state=rng
    )
    y = np.asarray(X[:, :10].sum(axis=1)).ravel() > np.median(
        np.asarray(X[:, :10].sum(axis=1))
    )
    return X, y.astype(int)


@pytest.mark.parametrize("early_stopping", [False, True])
def test_sparse_fit_not_densified(early_stopping, rng, seed, monkeypatch):
    X, y = sparse_problem(rng)
    dense_bytes = X.shape[0] * X.shape[1] * 8
    densified = []

    for cls in (sparse.csr_matrix, sparse.csc_matrix, sparse.coo_matrix):
        original = cls.toarray

        def spy(self, *args, _original=original, **kwargs):
            densified.append(self.shape)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(cls, "toarray", spy)

    params = {
        "hidden_layer_sizes": (8,),
        "max_iter": 2,
        "early_stopping": early_stopping,
        "random_state": seed,
    }
    with config_context(working_memory=1):
        tracemalloc.start()
        sparse_model = fit_quietly(ScratchMLPClassifier(**params), X, y)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

    assert all(rows < X.shape[0] for rows, _ in densified)
    assert peak < dense_bytes / 2

    dense_model = fit_quietly(ScratchMLPClassifier(**params), X.toarray(), y)
    for W_sparse, W_dense in zip(sparse_model.coefs_, dense_model.coefs_, strict=True):
        np.testing.assert_allclose(W_sparse, W_dense, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "make_input", [np.asarray, sparse.csr_matrix], ids=["dense", "csr"]
)
def test_predict_bounded_chunks(make_input, rng, seed, monkeypatch):
    X, y = make_blobs(n_samples=40, n_features=20, centers=2, random_state=seed)
    estimator = fit_quietly(
        ScratchMLPClassifier((16, 8), max_iter=2, random_state=seed), X, y
    )
    X_large = make_input(rng.standard_normal((20000, 20)))
    expected = estimator.predict_proba(X_large)
    chunk_sizes = []
    original = skmlp._prediction._first_layer

    def spy(X, rows, *args, **kwargs):
        chunk_sizes.append(rows.stop - rows.start)
        return original(X, rows, *args, **kwargs)

    monkeypatch.setattr(skmlp._prediction, "_first_layer", spy)
    # One thread: with more, the number of chunks is rounded up to a multiple.
    monkeypatch.setattr(skmlp._prediction, "available_threads", lambda: 1)
    with config_context(working_memory=1):
        proba = estimator.predict_proba(X_large)

    # One row needs 20 inputs, 16 + 8 hidden units and one output in float64.
    bound = 2**20 // (8 * (20 + 16 + 8 + 1))
    assert max(chunk_sizes) <= bound
    assert len(chunk_sizes) == -(-20000 // bound)
    assert sum(chunk_sizes) == 20000
    np.testing.assert_allclose(proba, expected, rtol=1e-12)


def test_binary_model_rejects_two_column_y(rng):
    X = rng.standard_normal((60, 3))
    y = (X[:, 0] > 0).astype(int)
    model = ScratchMLPClassifier((4,), batch_size=1000, random_state=0)
    model.partial_fit(X, y, classes=[0, 1])

    with pytest.raises(ValueError, match=r"y has shape \(60, 2\)"):
        model.partial_fit(X, np.c_[y, 1 - y])

    assert model.t_ == 60


@pytest.mark.parametrize("bad_weight", [-1.0, np.nan, np.inf])
def test_class_weight_invalid_value(rng, bad_weight):
    X = rng.standard_normal((30, 3))
    y = np.arange(30) % 3
    class_weight = {0: bad_weight, 1: 1, 2: 1}
    model = ScratchMLPClassifier((4,), max_iter=2, class_weight=class_weight)

    with pytest.raises(ValueError, match="class_weight contains the invalid weight"):
        model.fit(X, y)

    assert not hasattr(model, "coefs_")


def test_multiclass_multioutput_rejected(rng):
    X = rng.standard_normal((60, 3))
    y = np.c_[np.arange(60) % 2, np.arange(60) % 3]

    with pytest.raises(ValueError, match="multiclass-multioutput"):
        ScratchMLPClassifier((4,), max_iter=2).fit(X, y)


def test_sparse_multilabel_target_equals_dense(rng):
    X = rng.standard_normal((60, 3))
    Y = np.c_[X[:, 0] > 0, X[:, 1] > 0, np.arange(60) % 2].astype(int)
    params = dict(hidden_layer_sizes=(4,), max_iter=3, random_state=0)

    dense = ScratchMLPClassifier(**params).fit(X, Y)
    from_sparse = ScratchMLPClassifier(**params).fit(X, sparse.csr_matrix(Y))

    np.testing.assert_array_equal(from_sparse.coefs_[0], dense.coefs_[0])
    assert from_sparse.predict(X).shape == (60, 3)


def test_early_stopping_weightless_validation(rng):
    X = rng.standard_normal((60, 3))
    y = np.arange(60) % 2
    weights = np.r_[np.ones(10), np.zeros(50)]
    model = ScratchMLPClassifier((4,), max_iter=3, early_stopping=True, random_state=1)

    with pytest.raises(ValueError, match="sample_weight 0"):
        model.fit(X, y, sample_weight=weights)


@pytest.mark.parametrize("sizes", [True, (True,), (4, False), {3: 1}, "8"])
def test_hidden_layer_sizes_invalid_type(sizes):
    X = np.arange(20, dtype=float).reshape(10, 2)
    y = np.arange(10) % 2
    model = ScratchMLPClassifier(sizes, max_iter=1)

    with pytest.raises((ValueError, TypeError), match="hidden_layer_sizes"):
        model.fit(X, y)
