import gzip
import hashlib
import re
from importlib import resources

import numpy as np
import pandas as pd
import pytest

from skmlp.datasets import load_adult

FEATURE_NAMES = [
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education-num",
    "marital-status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital-gain",
    "capital-loss",
    "hours-per-week",
    "native-country",
]
CATEGORICAL_NAMES = [
    "workclass",
    "education",
    "marital-status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "native-country",
]
NUMERIC_NAMES = [name for name in FEATURE_NAMES if name not in CATEGORICAL_NAMES]

# SHA-256 of the gzip files as shipped, and of the original UCI files they contain.
SHIPPED_SHA256 = {
    "adult.data.gz": "171e93e0be014947c678f8e0fd17485ec99e8c273d1a7a0b506bb9139e95800b",
    "adult.test.gz": "88304f2ff4ca392efdb76452aa377e96dde27622ff90070ed0913c464bb7aa32",
}
ORIGINAL_SHA256 = {
    "adult.data.gz": "5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d",
    "adult.test.gz": "a2a9044bc167a35b2361efbabec64e89d69ce82d9790d2980119aac5fd7e9c05",
}
ORIGINAL_SIZES = {"adult.data.gz": 3_974_305, "adult.test.gz": 2_003_153}


@pytest.fixture(scope="module")
def adult():
    """Return the three subsets as Bunch objects, loaded once for the module."""
    return {subset: load_adult(subset=subset) for subset in ("train", "test", "all")}


def _shipped_bytes(file_name):
    return (resources.files("skmlp.datasets") / "data" / file_name).read_bytes()


@pytest.mark.parametrize(
    "subset, n_rows", [("train", 32_561), ("test", 16_281), ("all", 48_842)]
)
def test_load_adult_row_counts(adult, subset, n_rows):
    bunch = adult[subset]

    assert bunch.data.shape == (n_rows, 14)
    assert bunch.target.shape == (n_rows,)
    assert bunch.frame.shape == (n_rows, 15)


@pytest.mark.parametrize("subset", ["train", "test", "all"])
def test_load_adult_column_names(adult, subset):
    bunch = adult[subset]

    assert list(bunch.data.columns) == FEATURE_NAMES
    assert bunch.feature_names == FEATURE_NAMES
    assert list(bunch.frame.columns) == [*FEATURE_NAMES, "income"]


@pytest.mark.parametrize("subset", ["train", "test", "all"])
def test_load_adult_dtypes(adult, subset):
    data = adult[subset].data

    for name in CATEGORICAL_NAMES:
        assert isinstance(data[name].dtype, pd.CategoricalDtype), name
    for name in NUMERIC_NAMES:
        assert data[name].dtype == np.int64, name


def test_load_adult_categories_match_subsets(adult):
    for name in CATEGORICAL_NAMES:
        train_categories = list(adult["train"].data[name].cat.categories)
        test_categories = list(adult["test"].data[name].cat.categories)

        assert train_categories == test_categories, name
    assert isinstance(adult["all"].data["native-country"].dtype, pd.CategoricalDtype)


@pytest.mark.parametrize("subset", ["train", "test", "all"])
def test_load_adult_target_labels(adult, subset):
    bunch = adult[subset]

    assert bunch.target.name == "income"
    assert sorted(bunch.target.unique()) == ["<=50K", ">50K"]
    assert bunch.target.notna().all()
    assert bunch.target_names == ["<=50K", ">50K"]


@pytest.mark.parametrize(
    "subset, counts",
    [
        ("train", {"<=50K": 24_720, ">50K": 7_841}),
        ("test", {"<=50K": 12_435, ">50K": 3_846}),
        ("all", {"<=50K": 37_155, ">50K": 11_687}),
    ],
)
def test_load_adult_class_counts(adult, subset, counts):
    assert adult[subset].target.value_counts().to_dict() == counts


@pytest.mark.parametrize(
    "subset, missing_counts",
    [
        ("train", {"workclass": 1_836, "occupation": 1_843, "native-country": 583}),
        ("test", {"workclass": 963, "occupation": 966, "native-country": 274}),
    ],
)
def test_load_adult_missing_values(adult, subset, missing_counts):
    frame = adult[subset].frame

    expected = {name: missing_counts.get(name, 0) for name in frame.columns}
    assert frame.isna().sum().to_dict() == expected


@pytest.mark.parametrize("subset", ["train", "test"])
def test_load_adult_strings_stripped(adult, subset):
    frame = adult[subset].frame

    for name in [*CATEGORICAL_NAMES, "income"]:
        values = frame[name].dropna().astype(str).unique()

        assert "?" not in values, name
        for value in values:
            assert value == value.strip(), (name, value)
            assert not value.endswith("."), (name, value)


def test_load_adult_first_and_last_records(adult):
    first_test_row = adult["test"].frame.iloc[0].tolist()
    last_train_row = adult["train"].frame.iloc[-1].tolist()

    assert first_test_row == [
        25,
        "Private",
        226802,
        "11th",
        7,
        "Never-married",
        "Machine-op-inspct",
        "Own-child",
        "Black",
        "Male",
        0,
        0,
        40,
        "United-States",
        "<=50K",
    ]
    assert last_train_row == [
        52,
        "Self-emp-inc",
        287927,
        "HS-grad",
        9,
        "Married-civ-spouse",
        "Exec-managerial",
        "Wife",
        "White",
        "Female",
        15024,
        0,
        40,
        "United-States",
        ">50K",
    ]


def test_load_adult_all_is_train_then_test(adult):
    expected = pd.concat([adult["train"].frame, adult["test"].frame], ignore_index=True)

    pd.testing.assert_frame_equal(adult["all"].frame, expected)


def test_load_adult_frame_joins_data_and_target(adult):
    bunch = adult["train"]

    pd.testing.assert_frame_equal(bunch.frame[FEATURE_NAMES], bunch.data)
    pd.testing.assert_series_equal(bunch.frame["income"], bunch.target)


def test_load_adult_return_X_y(adult):
    X, y = load_adult(subset="test", return_X_y=True)

    pd.testing.assert_frame_equal(X, adult["test"].data)
    pd.testing.assert_series_equal(y, adult["test"].target)


def test_load_adult_as_frame_false(adult):
    bunch = load_adult(as_frame=False)

    assert isinstance(bunch.data, np.ndarray)
    assert bunch.data.dtype == object
    assert bunch.data.shape == (32_561, 14)
    assert isinstance(bunch.target, np.ndarray)
    assert bunch.target.dtype == object
    assert bunch.target.shape == (32_561,)
    assert bunch.frame is None
    assert bunch.feature_names == FEATURE_NAMES


def test_load_adult_as_frame_false_values(adult):
    X, y = load_adult(as_frame=False, return_X_y=True)
    workclass = X[:, FEATURE_NAMES.index("workclass")]

    assert X[0, 0] == 39
    assert isinstance(X[0, 0], int)
    assert X[0, 1] == "State-gov"
    assert pd.isna(workclass).sum() == 1_836
    assert set(y) == {"<=50K", ">50K"}
    assert np.array_equal(y, adult["train"].target.to_numpy(dtype=object))


@pytest.mark.parametrize("subset", ["validation", "Train", "", None, ["train"]])
def test_load_adult_invalid_subset(subset):
    message = f"Invalid subset {subset!r}: expected one of 'train', 'test', 'all'"

    with pytest.raises(ValueError, match=re.escape(message)):
        load_adult(subset=subset)


def test_load_adult_description(adult):
    description = adult["train"].DESCR

    assert "Adult" in description
    assert "48,842" in description
    assert "CC BY 4.0" in description
    assert "https://doi.org/10.24432/C5XW20" in description


@pytest.mark.parametrize("file_name", sorted(SHIPPED_SHA256))
def test_shipped_gzip_checksum(file_name):
    digest = hashlib.sha256(_shipped_bytes(file_name)).hexdigest()

    assert digest == SHIPPED_SHA256[file_name]


@pytest.mark.parametrize("file_name", sorted(ORIGINAL_SHA256))
def test_shipped_gzip_matches_original(file_name):
    original = gzip.decompress(_shipped_bytes(file_name))

    assert len(original) == ORIGINAL_SIZES[file_name]
    assert hashlib.sha256(original).hexdigest() == ORIGINAL_SHA256[file_name]


@pytest.mark.parametrize("file_name", sorted(SHIPPED_SHA256))
def test_shipped_gzip_header_is_deterministic(file_name):
    header = _shipped_bytes(file_name)[:10]
    modification_time = int.from_bytes(header[4:8], "little")
    has_file_name = bool(header[3] & 0x08)

    assert modification_time == 0
    assert not has_file_name
