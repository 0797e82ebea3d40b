import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline

from skmlp._mlp import ScratchMLPClassifier
from skmlp._pipeline import (
    ADULT_CATEGORICAL_COLUMNS,
    ADULT_NUMERIC_COLUMNS,
    ADULT_SKEWED_COLUMNS,
    make_adult_pipeline,
    make_preprocessor,
)
from skmlp.datasets import load_adult

# 102 one-hot columns (the categories of adult.data plus one "missing" column for
# each of workclass, occupation and native-country), 4 numeric columns, and 12
# bins for each of capital-gain and capital-loss.
N_ADULT_FEATURES_OUT = 130


@pytest.fixture(scope="module")
def adult_train():
    return load_adult(subset="train", return_X_y=True)


@pytest.fixture(scope="module")
def adult_test():
    return load_adult(subset="test", return_X_y=True)


@pytest.fixture(scope="module")
def fitted_adult_preprocessor(adult_train):
    X_train, _ = adult_train
    preprocessor = make_adult_pipeline().named_steps["preprocess"]
    return preprocessor.fit(X_train)


def _resolved_columns(fitted_preprocessor):
    """Map each part of a fitted column transformer to the columns it received."""
    return {
        name: list(columns) for name, _, columns in fitted_preprocessor.transformers_
    }


def test_make_adult_pipeline_steps():
    pipeline = make_adult_pipeline()

    assert isinstance(pipeline, Pipeline)
    assert [name for name, _ in pipeline.steps] == ["preprocess", "classifier"]
    assert isinstance(pipeline.named_steps["preprocess"], ColumnTransformer)
    assert isinstance(pipeline.named_steps["classifier"], ScratchMLPClassifier)


def test_make_adult_pipeline_passes_classifier_params():
    pipeline = make_adult_pipeline(hidden_layer_sizes=(8,), random_state=3)
    params = pipeline.named_steps["classifier"].get_params()

    assert params["hidden_layer_sizes"] == (8,)
    assert params["random_state"] == 3


def test_adult_constants_disjoint(adult_train):
    X_train, _ = adult_train
    groups = [ADULT_CATEGORICAL_COLUMNS, ADULT_NUMERIC_COLUMNS, ADULT_SKEWED_COLUMNS]
    used = [name for group in groups for name in group]

    assert len(used) == len(set(used))
    assert set(used) <= set(X_train.columns)
    assert set(X_train.columns) - set(used) == {"fnlwgt", "education-num"}


def test_adult_preprocess_output_is_csr(fitted_adult_preprocessor, adult_train):
    X_train, _ = adult_train

    output = fitted_adult_preprocessor.transform(X_train)

    assert sp.issparse(output)
    assert output.format == "csr"
    assert output.shape == (32_561, N_ADULT_FEATURES_OUT)
    assert np.isfinite(output.data).all()


def test_adult_preprocess_feature_names(fitted_adult_preprocessor):
    names = fitted_adult_preprocessor.get_feature_names_out().tolist()

    assert len(names) == N_ADULT_FEATURES_OUT
    assert names[0] == "categorical__workclass_Federal-gov"
    assert "categorical__workclass_missing" in names
    assert "categorical__native-country_Holand-Netherlands" in names
    assert [name for name in names if name.startswith("numeric__")] == [
        "numeric__age",
        "numeric__capital-gain",
        "numeric__capital-loss",
        "numeric__hours-per-week",
    ]
    assert names[-1] == "binned__capital-loss_11.0"
    assert sum(name.startswith("binned__capital-gain_") for name in names) == 12


def test_adult_preprocess_keeps_training_statistics(
    fitted_adult_preprocessor, adult_train, adult_test
):
    X_train, _ = adult_train
    X_test, _ = adult_test
    scaler = fitted_adult_preprocessor.named_transformers_["numeric"]["scale"]
    columns = list(ADULT_NUMERIC_COLUMNS)
    train_mean = X_train[columns].mean().to_numpy()
    train_std = X_train[columns].std(ddof=0).to_numpy()

    names = fitted_adult_preprocessor.get_feature_names_out().tolist()
    positions = [names.index(f"numeric__{column}") for column in columns]
    output = fitted_adult_preprocessor.transform(X_test)
    scaled_test = output[:, positions].toarray()

    np.testing.assert_allclose(scaler.mean_, train_mean)
    np.testing.assert_allclose(scaler.scale_, train_std)
    expected = (X_test[columns].to_numpy() - train_mean) / train_std
    np.testing.assert_allclose(scaled_test, expected)
    # Refitting on the test set would have centered these columns exactly.
    assert np.abs(scaled_test.mean(axis=0)).max() > 1e-3


def test_adult_preprocess_encodes_missing_category(
    fitted_adult_preprocessor, adult_train
):
    X_train, _ = adult_train
    names = fitted_adult_preprocessor.get_feature_names_out().tolist()
    missing_column = names.index("categorical__workclass_missing")

    output = fitted_adult_preprocessor.transform(X_train).tocsc()
    indicator = output[:, missing_column].toarray().ravel()

    np.testing.assert_array_equal(indicator == 1, X_train["workclass"].isna())


def test_adult_preprocess_warns_unknown_category(adult_train):
    X_train, _ = adult_train
    is_netherlands = X_train["native-country"] == "Holand-Netherlands"
    preprocessor = make_adult_pipeline().named_steps["preprocess"]
    preprocessor.fit(X_train[~is_netherlands])
    names = preprocessor.get_feature_names_out().tolist()
    country_columns = [
        index
        for index, name in enumerate(names)
        if name.startswith("categorical__native-country_")
    ]

    with pytest.warns(UserWarning, match="unknown categories"):
        output = preprocessor.transform(X_train[is_netherlands])

    assert is_netherlands.sum() == 1
    assert output.shape == (1, N_ADULT_FEATURES_OUT - 1)
    assert output[:, country_columns].nnz == 0
    assert output[:, : country_columns[0]].sum() == 7


def test_make_preprocessor_log1p_value(adult_train):
    X_train, _ = adult_train
    preprocessor = make_preprocessor(
        ADULT_CATEGORICAL_COLUMNS,
        numeric_columns=ADULT_NUMERIC_COLUMNS,
        skewed_columns=["capital-gain", "capital-loss"],
    )
    log_gain = np.log1p(X_train["capital-gain"].to_numpy())
    # The first row of adult.data has a capital gain of 2,174 dollars.
    expected = (np.log1p(2174) - log_gain.mean()) / log_gain.std()

    output = preprocessor.fit_transform(X_train)
    names = preprocessor.get_feature_names_out().tolist()
    gain_column = names.index("skewed__capital-gain")

    assert "numeric__capital-gain" not in names
    assert X_train["capital-gain"].iloc[0] == 2174
    assert output[0, gain_column] == pytest.approx(expected)
    assert output[0, gain_column] == pytest.approx(2.8314, abs=1e-4)


def test_make_preprocessor_selects_columns_by_dtype():
    X = pd.DataFrame(
        {
            "city": pd.Series(["Paris", "Lima", None, "Oslo"], dtype=object),
            "size": pd.Categorical(["S", "M", "L", None]),
            "colour": pd.Series(["red", None, "blue", "red"], dtype="string"),
            "member": [True, False, False, True],
            "count": [1, 2, 3, 4],
            "price": [0.5, np.nan, 2.5, 4.0],
        }
    )

    preprocessor = make_preprocessor().fit(X)

    assert _resolved_columns(preprocessor) == {
        "categorical": ["city", "size", "colour", "member"],
        "numeric": ["count", "price"],
        "skewed": [],
        "binned": [],
    }
    assert preprocessor.get_feature_names_out().tolist() == [
        "categorical__city_Lima",
        "categorical__city_Oslo",
        "categorical__city_Paris",
        "categorical__city_missing",
        "categorical__size_L",
        "categorical__size_M",
        "categorical__size_S",
        "categorical__size_missing",
        "categorical__colour_blue",
        "categorical__colour_missing",
        "categorical__colour_red",
        "categorical__member_False",
        "categorical__member_True",
        "numeric__count",
        "numeric__price",
    ]


def test_make_preprocessor_imputes_numeric_median():
    X = pd.DataFrame({"price": [1.0, np.nan, 3.0, 8.0]})

    output = make_preprocessor().fit_transform(X)

    # The median of 1, 3 and 8 is 3, which then standardizes like the third row.
    assert output[1, 0] == pytest.approx(output[2, 0])
    assert np.isfinite(output).all()


def test_make_preprocessor_named_columns_not_reselected():
    X = pd.DataFrame(
        {
            "zip_code": [75001, 10115, 75001, 1000],
            "income": [0.0, 100.0, 10.0, 1000.0],
            "age": [30, 40, 50, 60],
            "city": ["Paris", "Berlin", "Paris", "Brussels"],
        }
    )

    preprocessor = make_preprocessor(
        ["zip_code", "city"], skewed_columns=["income"]
    ).fit(X)

    assert _resolved_columns(preprocessor) == {
        "categorical": ["zip_code", "city"],
        "numeric": ["age"],
        "skewed": ["income"],
        "binned": [],
    }


def test_make_preprocessor_skewed_overrides_numeric():
    X = pd.DataFrame({"age": [30, 40, 50], "income": [0.0, 10.0, 100.0]})

    preprocessor = make_preprocessor(
        numeric_columns=["age", "income"], skewed_columns=["income"]
    ).fit(X)

    assert _resolved_columns(preprocessor) == {
        "categorical": [],
        "numeric": ["age"],
        "skewed": ["income"],
        "binned": [],
    }
    assert preprocessor.get_feature_names_out().tolist() == [
        "numeric__age",
        "skewed__income",
    ]


def test_make_preprocessor_drops_unlisted_columns(adult_train):
    X_train, _ = adult_train

    preprocessor = make_preprocessor(["sex"], numeric_columns=["age"])
    output = preprocessor.fit_transform(X_train)

    assert output.shape == (32_561, 3)
    assert preprocessor.get_feature_names_out().tolist() == [
        "categorical__sex_Female",
        "categorical__sex_Male",
        "numeric__age",
    ]
