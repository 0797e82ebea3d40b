"""Loader for the UCI Adult (Census Income) data set shipped with skmlp."""

from importlib import resources

import pandas as pd
from sklearn.utils import Bunch

# Categories in the order that adult.names lists them. Fixing them here gives the
# train and test subsets the same dtypes, so ``pd.concat`` keeps them categorical.
_CATEGORIES = {
    "workclass": [
        "Private",
        "Self-emp-not-inc",
        "Self-emp-inc",
        "Federal-gov",
        "Local-gov",
        "State-gov",
        "Without-pay",
        "Never-worked",
    ],
    "education": [
        "Bachelors",
        "Some-college",
        "11th",
        "HS-grad",
        "Prof-school",
        "Assoc-acdm",
        "Assoc-voc",
        "9th",
        "7th-8th",
        "12th",
        "Masters",
        "1st-4th",
        "10th",
        "Doctorate",
        "5th-6th",
        "Preschool",
    ],
    "marital-status": [
        "Married-civ-spouse",
        "Divorced",
        "Never-married",
        "Separated",
        "Widowed",
        "Married-spouse-absent",
        "Married-AF-spouse",
    ],
    "occupation": [
        "Tech-support",
        "Craft-repair",
        "Other-service",
        "Sales",
        "Exec-managerial",
        "Prof-specialty",
        "Handlers-cleaners",
        "Machine-op-inspct",
        "Adm-clerical",
        "Farming-fishing",
        "Transport-moving",
        "Priv-house-serv",
        "Protective-serv",
        "Armed-Forces",
    ],
    "relationship": [
        "Wife",
        "Own-child",
        "Husband",
        "Not-in-family",
        "Other-relative",
        "Unmarried",
    ],
    "race": ["White", "Asian-Pac-Islander", "Amer-Indian-Eskimo", "Other", "Black"],
    "sex": ["Female", "Male"],
    "native-country": [
        "United-States",
        "Cambodia",
        "England",
        "Puerto-Rico",
        "Canada",
        "Germany",
        "Outlying-US(Guam-USVI-etc)",
        "India",
        "Japan",
        "Greece",
        "South",
        "China",
        "Cuba",
        "Iran",
        "Honduras",
        "Philippines",
        "Italy",
        "Poland",
        "Jamaica",
        "Vietnam",
        "Mexico",
        "Portugal",
        "Ireland",
        "France",
        "Dominican-Republic",
        "Laos",
        "Ecuador",
        "Taiwan",
        "Haiti",
        "Columbia",
        "Hungary",
        "Guatemala",
        "Nicaragua",
        "Scotland",
        "Thailand",
        "Yugoslavia",
        "El-Salvador",
        "Trinadad&Tobago",
        "Peru",
        "Hong",
        "Holand-Netherlands",
    ],
}

_FEATURE_NAMES = [
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
_TARGET_NAME = "income"
_TARGET_NAMES = ["<=50K", ">50K"]

# adult.test starts with the line "|1x3 Cross validator", which is not a record.
_SUBSET_FILES = {
    "train": [("adult.data.gz", 0)],
    "test": [("adult.test.gz", 1)],
    "all": [("adult.data.gz", 0), ("adult.test.gz", 1)],
}


def _read_adult_file(file_name, n_header_lines):
    """Parse one gzipped Adult file into a DataFrame with the final dtypes."""
    dtypes = {name: "int64" for name in _FEATURE_NAMES}
    for name, categories in _CATEGORIES.items():
        dtypes[name] = pd.CategoricalDtype(categories)
    dtypes[_TARGET_NAME] = str

    path = resources.files("skmlp.datasets") / "data" / file_name
    with path.open("rb") as compressed:
        frame = pd.read_csv(
            compressed,
            compression="gzip",
            header=None,
            names=[*_FEATURE_NAMES, _TARGET_NAME],
            dtype=dtypes,
            skiprows=n_header_lines,
            skipinitialspace=True,
            na_values=["?"],
            keep_default_na=False,
        )

    # adult.test ends its labels with a period: "<=50K." and ">50K.".
    labels = frame[_TARGET_NAME].str.removesuffix(".")
    frame[_TARGET_NAME] = pd.Categorical(labels, categories=_TARGET_NAMES)
    return frame


def load_adult(*, subset="train", return_X_y=False, as_frame=True):
    """Load the UCI Adult (Census Income) data set for binary classification.

    Each row describes one adult from the 1994 US Census. The task is to predict
    whether the person's yearly income is above 50,000 US dollars.

    =================  ========================================
    Classes                                                   2
    Samples (train)                                      32,561
    Samples (test)                                       16,281
    Features           14 (6 numeric, 8 categorical)
    Missing values     workclass, occupation and native-country
    =================  ========================================

    The files ship inside the package, so loading needs no network access.

    Parameters
    ----------
    subset : {"train", "test", "all"}, default="train"
        Which part of the original split to load: ``"train"`` is ``adult.data``,
        ``"test"`` is ``adult.test`` and ``"all"`` is the train rows followed by
        the test rows.

    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    as_frame : bool, default=True
        If True, ``data`` is a pandas DataFrame and ``target`` a pandas Series.
        If False, both are NumPy arrays of dtype object, as
        :func:`sklearn.datasets.fetch_openml` returns them with
        ``parser="pandas"``: numbers are Python ints, categories are strings
        and a missing value is ``float("nan")``.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        data : {DataFrame, ndarray} of shape (n_samples, 14)
            The features. With ``as_frame=True``, the eight categorical columns
            have the ``category`` dtype, with the categories listed in
            ``adult.names`` for every subset, and the six numeric columns have
            the ``int64`` dtype. Missing values ("?" in the files) are NaN.
        target : {Series, ndarray} of shape (n_samples,)
            The income class, ``"<=50K"`` or ``">50K"``. With
            ``as_frame=True`` it is a categorical Series named ``"income"``.
        frame : DataFrame of shape (n_samples, 15) or None
            ``data`` with ``target`` as its last column. None when
            ``as_frame=False``.
        feature_names : list of str
            The names of the 14 feature columns.
        target_names : list of str
            The two classes, ``["<=50K", ">50K"]``.
        DESCR : str
            The description of the data set, its source and its license.

    (data, target) : tuple if ``return_X_y`` is True
        The ``data`` and ``target`` described above.

    Raises
    ------
    ValueError
        If ``subset`` is not one of ``"train"``, ``"test"`` or ``"all"``.

    Notes
    -----
    The categorical columns use the ``category`` dtype because it takes about a
    tenth of the memory of strings, and because
    :class:`~sklearn.compose.make_column_selector` and estimators such as
    :class:`~sklearn.ensemble.HistGradientBoostingClassifier` with
    ``categorical_features="from_dtype"`` recognize it. A
    :class:`~sklearn.preprocessing.OneHotEncoder` reads the values of the
    column and ignores its list of categories, so categories that never occur
    in a subset (``"Holand-Netherlands"`` in the test set) add no columns.
    Call ``.astype(str)`` on a column to work with plain strings.

    The data set is licensed under Creative Commons Attribution 4.0
    (CC BY 4.0): cite Becker, B. and Kohavi, R. (1996). Adult. UCI Machine
    Learning Repository. https://doi.org/10.24432/C5XW20.

    Examples
    --------
    >>> from skmlp.datasets import load_adult
    >>> X, y = load_adult(return_X_y=True)
    >>> X.shape
    (32561, 14)
    >>> y.value_counts().to_dict()
    {'<=50K': 24720, '>50K': 7841}
    >>> load_adult(subset="test").frame.shape
    (16281, 15)
    """
    if not isinstance(subset, str) or subset not in _SUBSET_FILES:
        raise ValueError(
            f"Invalid subset {subset!r}: expected one of "
            f"{', '.join(repr(name) for name in _SUBSET_FILES)}."
        )

    parts = [_read_adult_file(*source) for source in _SUBSET_FILES[subset]]
    frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]

    data = frame[_FEATURE_NAMES]
    target = frame[_TARGET_NAME]
    if not as_frame:
        data = data.to_numpy(dtype=object)
        target = target.to_numpy(dtype=object)
        frame = None

    if return_X_y:
        return data, target

    description_path = resources.files("skmlp.datasets") / "descr" / "adult.rst"
    description = description_path.read_text(encoding="utf-8")
    return Bunch(
        data=data,
        target=target,
        frame=frame,
        feature_names=list(_FEATURE_NAMES),
        target_names=list(_TARGET_NAMES),
        DESCR=description,
    )
