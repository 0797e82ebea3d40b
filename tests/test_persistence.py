import os
import subprocess
import sys
import textwrap
import warnings
import zipfile

import joblib
import numpy as np
import pytest
import skops.io
from sklearn.datasets import make_classification
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

import skmlp.persistence
from skmlp import ScratchMLPClassifier, make_adult_pipeline
from skmlp.datasets import load_adult
from skmlp.exceptions import InconsistentVersionWarning
from skmlp.persistence import TRUSTED_TYPES, load_model, save_model

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FORMATS = ["skops", "joblib"]


def _double_values(X):
    """A function of this test module, which no skops allow list contains."""
    return 2 * X


@pytest.fixture(scope="module")
def classification_data():
    return make_classification(n_samples=120, n_features=5, random_state=0)


@pytest.fixture(scope="module")
def fitted_classifier(classification_data):
    X, y = classification_data
    return ScratchMLPClassifier((8,), max_iter=5, random_state=0).fit(X, y)


@pytest.fixture(scope="module")
def adult_slice():
    X, y = load_adult(subset="train", return_X_y=True)
    return X.iloc[:600], y.iloc[:600]


@pytest.fixture(scope="module")
def fitted_adult_pipeline(adult_slice):
    X, y = adult_slice
    return make_adult_pipeline(hidden_layer_sizes=(8,), max_iter=3, random_state=0).fit(
        X, y
    )


@pytest.fixture
def model_and_data(request, classification_data, adult_slice):
    """The fitted model named by the test parameter, with data to predict."""
    if request.param == "classifier":
        return request.getfixturevalue("fitted_classifier"), classification_data[0]
    return request.getfixturevalue("fitted_adult_pipeline"), adult_slice[0]


@pytest.mark.parametrize(
    "model_and_data", ["classifier", "adult_pipeline"], indirect=True
)
@pytest.mark.parametrize("format", FORMATS)
def test_save_model_round_trip(tmp_path, model_and_data, format):
    model, X = model_and_data
    path = tmp_path / f"model.{format}"

    save_model(model, path)
    loaded = load_model(path)

    assert type(loaded) is type(model)
    np.testing.assert_array_equal(loaded.classes_, model.classes_)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


@pytest.mark.parametrize("format", FORMATS)
def test_save_model_stores_version(tmp_path, fitted_classifier, format):
    path = tmp_path / "model.bin"

    save_model(fitted_classifier, path, format=format)

    if format == "joblib":
        stored = joblib.load(path)
    else:
        stored = skops.io.load(path, trusted=list(TRUSTED_TYPES))
    assert set(stored) == {"skmlp_version", "model"}
    assert stored["skmlp_version"] == skmlp.__version__
    assert isinstance(stored["model"], ScratchMLPClassifier)


def test_save_model_skops_is_zip(tmp_path, fitted_classifier):
    path = tmp_path / "model.skops"

    save_model(fitted_classifier, path)

    assert zipfile.is_zipfile(path)


def test_save_model_unknown_suffix(tmp_path, fitted_classifier):
    with pytest.raises(ValueError, match=r"Cannot tell the format .* '\.pkl'"):
        save_model(fitted_classifier, tmp_path / "model.pkl")

    assert list(tmp_path.iterdir()) == []


def test_save_model_invalid_format(tmp_path, fitted_classifier):
    with pytest.raises(ValueError, match="Invalid format 'pickle'"):
        save_model(fitted_classifier, tmp_path / "model.skops", format="pickle")


def test_save_model_missing_folder(tmp_path, fitted_classifier):
    with pytest.raises(FileNotFoundError, match="folder .* was not found"):
        save_model(fitted_classifier, tmp_path / "absent" / "model.skops")


@pytest.mark.parametrize("format", FORMATS)
def test_save_model_existing_file_needs_force(tmp_path, fitted_classifier, format):
    path = tmp_path / f"model.{format}"
    path.write_bytes(b"previous content")

    with pytest.raises(FileExistsError, match="already exists.*force=True"):
        save_model(fitted_classifier, path)
    assert path.read_bytes() == b"previous content"

    save_model(fitted_classifier, path, force=True)
    assert isinstance(load_model(path), ScratchMLPClassifier)


def test_save_model_keeps_file_mode(tmp_path, fitted_classifier):
    path = tmp_path / "model.joblib"
    path.write_bytes(b"previous content")
    path.chmod(0o640)

    save_model(fitted_classifier, path, force=True)

    assert path.stat().st_mode & 0o777 == 0o640


@pytest.mark.parametrize("format", FORMATS)
@pytest.mark.parametrize(
    "error", [OSError("No space left on device"), KeyboardInterrupt()]
)
def test_save_model_failure_keeps_previous_file(
    tmp_path, monkeypatch, fitted_classifier, classification_data, format, error
):
    X, _ = classification_data
    path = tmp_path / f"model.{format}"
    save_model(fitted_classifier, path)
    good_bytes = path.read_bytes()

    def write_half_then_fail(value, filename, **kwargs):
        with open(filename, "wb") as file:
            file.write(good_bytes[: len(good_bytes) // 2])
        raise error

    dumper_owner = joblib if format == "joblib" else skops.io
    monkeypatch.setattr(dumper_owner, "dump", write_half_then_fail)

    with pytest.raises(type(error)):
        save_model(fitted_classifier, path, force=True)

    assert path.read_bytes() == good_bytes
    assert [entry.name for entry in tmp_path.iterdir()] == [path.name]
    monkeypatch.undo()
    np.testing.assert_array_equal(
        load_model(path).predict_proba(X), fitted_classifier.predict_proba(X)
    )


def test_load_model_joblib_in_fresh_process(
    tmp_path, fitted_adult_pipeline, adult_slice
):
    X, _ = adult_slice
    model_path = tmp_path / "model.joblib"
    data_path = tmp_path / "rows.pkl"
    proba_path = tmp_path / "proba.npy"
    save_model(fitted_adult_pipeline, model_path)
    X.to_pickle(data_path)

    script = textwrap.dedent(
        f"""
        import numpy as np
        import pandas as pd
        from skmlp.persistence import load_model

        model = load_model({str(model_path)!r})
        X = pd.read_pickle({str(data_path)!r})
        np.save({str(proba_path)!r}, model.predict_proba(X))
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)

    expected = fitted_adult_pipeline.predict_proba(X)
    loaded = np.load(proba_path)
    assert loaded.dtype == expected.dtype
    assert loaded.tobytes() == expected.tobytes()


@pytest.mark.parametrize(
    "solver, optimizer",
    [
        ("sgd", "skmlp._optimizers.SGDOptimizer"),
        ("adam", "skmlp._optimizers.AdamOptimizer"),
    ],
)
def test_trusted_types_cover_classifier(classification_data, solver, optimizer):
    X, y = classification_data
    clf = ScratchMLPClassifier((4,), solver=solver, max_iter=2, random_state=0)

    data = skops.io.dumps(clf.fit(X, y))

    untrusted = skops.io.get_untrusted_types(data=data)
    assert optimizer in untrusted
    assert set(untrusted) <= set(TRUSTED_TYPES)


def test_trusted_types_match_adult_pipeline(fitted_adult_pipeline):
    data = skops.io.dumps(fitted_adult_pipeline)

    untrusted = set(skops.io.get_untrusted_types(data=data))

    assert untrusted == set(TRUSTED_TYPES) - {"skmlp._optimizers.AdamOptimizer"}


def test_load_model_untrusted_type(tmp_path, fitted_classifier, classification_data):
    X, y = classification_data
    pipeline = Pipeline(
        [
            ("double", FunctionTransformer(_double_values)),
            ("classifier", ScratchMLPClassifier((4,), max_iter=2, random_state=0)),
        ]
    ).fit(X, y)
    path = tmp_path / "model.skops"
    save_model(pipeline, path)
    function_name = f"{_double_values.__module__}._double_values"

    with pytest.raises(ValueError, match="not trusted: .*_double_values"):
        load_model(path)

    loaded = load_model(path, trusted=[function_name])
    np.testing.assert_array_equal(loaded.predict_proba(X), pipeline.predict_proba(X))


@pytest.mark.parametrize("format", FORMATS)
def test_load_model_version_mismatch_warns(
    tmp_path, monkeypatch, fitted_classifier, format
):
    path = tmp_path / f"model.{format}"
    monkeypatch.setattr(skmlp.persistence, "__version__", "0.0.1")
    save_model(fitted_classifier, path)
    monkeypatch.undo()

    with pytest.warns(
        InconsistentVersionWarning, match="saved with skmlp 0.0.1"
    ) as record:
        loaded = load_model(path)

    assert record[0].message.saved_version == "0.0.1"
    assert record[0].message.current_version == skmlp.__version__
    assert isinstance(loaded, ScratchMLPClassifier)


@pytest.mark.parametrize("format", FORMATS)
def test_load_model_same_version_silent(tmp_path, fitted_classifier, format):
    path = tmp_path / f"model.{format}"
    save_model(fitted_classifier, path)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = load_model(path)

    assert isinstance(loaded, ScratchMLPClassifier)


def test_load_model_bare_joblib_object(
    tmp_path, fitted_classifier, classification_data
):
    X, _ = classification_data
    path = tmp_path / "model.joblib"
    joblib.dump(fitted_classifier, path)

    loaded = load_model(path)

    np.testing.assert_array_equal(
        loaded.predict_proba(X), fitted_classifier.predict_proba(X)
    )


@pytest.mark.parametrize(
    "name, format, message",
    [
        ("model.skops", None, "not a valid skops file"),
        ("model.joblib", None, "not a valid joblib file"),
        ("model.bin", "joblib", "not a valid joblib file"),
    ],
)
def test_load_model_invalid_file(tmp_path, name, format, message):
    path = tmp_path / name
    path.write_text("age,income\n39,<=50K\n")

    with pytest.raises(ValueError, match=message):
        load_model(path, format=format)


def test_load_model_joblib_needs_suffix_or_format(tmp_path, fitted_classifier):
    path = tmp_path / "model.bin"
    save_model(fitted_classifier, path, format="joblib")

    with pytest.raises(ValueError, match="not a valid skops file.*format='joblib'"):
        load_model(path)

    assert isinstance(load_model(path, format="joblib"), ScratchMLPClassifier)


def test_load_model_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="model.skops' was not found"):
        load_model(tmp_path / "model.skops")


def test_write_atomically_creates_readable_file(tmp_path, fitted_classifier):
    path = tmp_path / "model.skops"

    save_model(fitted_classifier, path)

    umask = os.umask(0o022)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
