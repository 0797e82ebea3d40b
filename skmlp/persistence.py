"""Saving fitted models to disk and loading them back.

Two formats are supported:

- ``"skops"``: the :mod:`skops.io` format, a zip archive that is read without
  :mod:`pickle`. Loading builds only the types that skops trusts by default
  and those in :data:`TRUSTED_TYPES`, so a file from an unknown source cannot
  run code when it is loaded.
- ``"joblib"``: :func:`joblib.dump`, which pickles the model. Loading a joblib
  file runs any code that the file contains, so load only files that you
  created or that come from a source you trust.

Either file stores the model in a plain dict, ``{"skmlp_version": ..., "model":
model}``. skops trusts ``dict`` and ``str`` by default, so the version adds no
type to :data:`TRUSTED_TYPES`, and the caller's model is saved as it is,
neither copied nor changed.
"""

import functools
import os
import stat
import tempfile
import warnings
import zipfile
from pathlib import Path

import joblib

from ._version import __version__
from .exceptions import InconsistentVersionWarning

#: Types that :func:`load_model` trusts in a skops file, in addition to the
#: types that :mod:`skops.io` trusts by default. skops 0.16 trusts the builtin
#: containers and scalars, numpy arrays, scalars and ufuncs such as
#: ``np.log1p``, ``numpy.random.RandomState`` and every public scikit-learn
#: estimator (``Pipeline``, ``ColumnTransformer``, ``OneHotEncoder``,
#: ``SimpleImputer``, ``StandardScaler``, ``FunctionTransformer``). The entries are:
#:
#: - ``ScratchMLPClassifier`` and the helpers that a fitted one stores: the label
#:   encoder of its output layer and the state of its optimizer;
#: - ``_categories_as_strings``, the function that the categorical part of
#:   :func:`skmlp._pipeline.make_preprocessor` applies before imputation;
#: - ``numpy.dtype``, because a fitted ``SimpleImputer`` stores dtype instances
#:   (``_fit_dtype`` and ``_fill_dtype``), which skops 0.16 does not trust. skops
#:   rebuilds a dtype from an empty array read with ``allow_pickle=False``.
#:
#: ``make_preprocessor()`` without column lists selects columns with
#: ``make_column_selector`` objects, which store the untrusted types
#: ``make_column_selector``, ``builtins.object`` and ``numpy.number``. The
#: command-line tool resolves the columns to lists before fitting; other callers
#: can do the same, or pass these names to ``load_model(trusted=...)``.
TRUSTED_TYPES = (
    "numpy.dtype",
    "skmlp._mlp.ScratchMLPClassifier",
    "skmlp._optimizers.AdamOptimizer",
    "skmlp._optimizers.SGDOptimizer",
    "skmlp._pipeline._categories_as_strings",
    "skmlp._targets.TargetEncoder",
)

FORMATS = ("skops", "joblib")

_VERSION_KEY = "skmlp_version"
_MODEL_KEY = "model"


def save_model(model, path, *, format=None, force=False):
    """Save a fitted model to a file, atomically.

    The model is written to a temporary file in the folder of ``path``, flushed
    to disk and then renamed to ``path``. An error or an interruption while
    writing leaves ``path`` as it was and removes the temporary file.

    Parameters
    ----------
    model : object
        The model to save, usually a fitted estimator or pipeline.

    path : str or path-like
        Destination file. Its folder must exist.

    format : {"skops", "joblib"}, default=None
        File format. If None, it is taken from the suffix of ``path``,
        ``.skops`` or ``.joblib``.

    force : bool, default=False
        Whether to replace an existing file at ``path``.

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``force`` is False.

    FileNotFoundError
        If the folder of ``path`` does not exist.

    ValueError
        If ``format`` is invalid, or is None and the suffix of ``path`` is
        neither ``.skops`` nor ``.joblib``.

    See Also
    --------
    load_model : Load a model saved by this function.

    Notes
    -----
    The file stores ``{"skmlp_version": skmlp.__version__, "model": model}``, so
    that :func:`load_model` can warn when the running skmlp version differs.

    Without ``force``, the check for an existing file and the rename are two
    steps: a file that another process creates at ``path`` in between is
    replaced.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from sklearn.datasets import make_classification
    >>> from skmlp import ScratchMLPClassifier
    >>> from skmlp.persistence import load_model, save_model
    >>> X, y = make_classification(n_samples=100, random_state=0)
    >>> clf = ScratchMLPClassifier((8,), tol=1e-2, random_state=0).fit(X, y)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "model.skops"
    ...     save_model(clf, path)
    ...     loaded = load_model(path)
    >>> bool((loaded.predict_proba(X) == clf.predict_proba(X)).all())
    True
    """
    path = Path(path)
    format = _resolve_format(path, format)

    if not path.parent.is_dir():
        raise FileNotFoundError(
            f"The folder {str(path.parent)!r} of the model file was not found. "
            "Create it first, or choose another path."
        )
    if path.exists() and not force:
        raise FileExistsError(
            f"The file {str(path)!r} already exists. Choose another path, or pass "
            "force=True to replace it."
        )

    stored = {_VERSION_KEY: __version__, _MODEL_KEY: model}
    if format == "skops":
        dump = functools.partial(
            _import_skops_io().dump, stored, compression=zipfile.ZIP_DEFLATED
        )
    else:
        dump = functools.partial(joblib.dump, stored)

    write_atomically(path, dump)


def load_model(path, *, format=None, trusted=None):
    """Load a model saved by :func:`save_model`.

    Parameters
    ----------
    path : str or path-like
        File to load.

    format : {"skops", "joblib"}, default=None
        File format. If None, ``"joblib"`` for a ``.joblib`` suffix and
        ``"skops"`` for any other suffix, so a joblib file is only unpickled
        when its name or the caller says so.

    trusted : list of str, default=None
        Types to trust in a skops file in addition to :data:`TRUSTED_TYPES`,
        as full names like ``"mypackage.module.MyTransformer"``. Ignored for
        joblib files.

    Returns
    -------
    model : object
        The saved model.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.

    ValueError
        If the file is not a valid file of the format, or if a skops file
        contains types that are not trusted. The message lists those types.

    Warns
    -----
    InconsistentVersionWarning
        If the file was saved with another skmlp version than the running one.

    See Also
    --------
    save_model : Save a model to a file.

    Notes
    -----
    Loading a joblib file runs the code that the file contains. Load joblib
    files only from sources that you trust; prefer skops files otherwise.

    A file written directly by :func:`skops.io.dump` or :func:`joblib.dump`,
    without the version, is returned as it is, with no version check.
    """
    path = Path(path)
    format = "joblib" if format is None and path.suffix == ".joblib" else format
    format = "skops" if format is None else format
    _check_format(format)

    if not path.is_file():
        raise FileNotFoundError(
            f"The model file {str(path)!r} was not found. Check the path."
        )

    if format == "skops":
        stored = _load_skops(path, trusted)
    else:
        stored = _load_joblib(path)

    if not _is_versioned(stored):
        return stored

    saved_version = stored[_VERSION_KEY]
    if saved_version != __version__:
        warnings.warn(
            InconsistentVersionWarning(
                path=str(path),
                saved_version=saved_version,
                current_version=__version__,
            ),
            stacklevel=2,
        )
    return stored[_MODEL_KEY]


def write_atomically(path, write):
    """Write a file through a temporary file in the same folder.

    Parameters
    ----------
    path : path-like
        Destination file, replaced if it exists.

    write : callable
        Called with the path of the temporary file as a string. It must write
        the whole content there.
    """
    path = Path(path)
    descriptor, temporary = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
    )
    os.close(descriptor)

    try:
        # mkstemp creates the file readable by its owner only. It gets the mode
        # of the file it replaces, or that of a new file under the umask.
        os.chmod(temporary, _file_mode(path))
        write(temporary)
        with open(temporary, "rb") as file:
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        # BaseException includes KeyboardInterrupt: an interrupted save must
        # leave no temporary file behind either.
        os.unlink(temporary)
        raise


def _file_mode(path):
    """Return the permission bits of ``path``, or of a new file if it is missing."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        pass

    # os.umask can only be read by setting it, so it is set back at once.
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def _resolve_format(path, format):
    """Return the format given, or the one named by the suffix of ``path``."""
    if format is not None:
        _check_format(format)
        return format

    suffix = path.suffix.lstrip(".")
    if suffix not in FORMATS:
        raise ValueError(
            f"Cannot tell the format of {str(path)!r} from its suffix "
            f"{path.suffix!r}. Use the suffix .skops or .joblib, or pass "
            "format='skops' or format='joblib'."
        )
    return suffix


def _check_format(format):
    if format not in FORMATS:
        raise ValueError(
            f"Invalid format {format!r}. Use one of {', '.join(map(repr, FORMATS))}."
        )


def _import_skops_io():
    """Return :mod:`skops.io`, which the optional ``skops`` extra installs."""
    try:
        import skops.io
    except ImportError as error:
        raise ImportError(
            "The skops format needs the skops package, which is missing. Install "
            'it with `pip install "skmlp[skops]"`, or use format="joblib".'
        ) from error
    return skops.io


def _load_skops(path, trusted):
    """Load a skops file after checking that every type in it is trusted."""
    skops_io = _import_skops_io()
    allowed = [*TRUSTED_TYPES, *(trusted or [])]

    try:
        untrusted = skops_io.get_untrusted_types(file=path)
    except (zipfile.BadZipFile, KeyError, ValueError) as error:
        raise ValueError(
            f"{str(path)!r} is not a valid skops file ({error}). If it is a joblib "
            "file from a source that you trust, load it with format='joblib'."
        ) from error

    rejected = sorted(set(untrusted) - set(allowed))
    if rejected:
        raise ValueError(
            f"{str(path)!r} contains types that are not trusted: "
            f"{', '.join(rejected)}. Inspect the file, and if you trust these "
            "types, pass them as trusted=[...]."
        )
    return skops_io.load(path, trusted=allowed)


def _load_joblib(path):
    """Unpickle a joblib file; raise ValueError if it is not one."""
    # Bytes that are not a joblib file fail in the decompressor that joblib picks
    # from the first bytes (zlib.error for a file starting with "x") or in the
    # unpickler (UnpicklingError, EOFError, KeyError, ...): the set is open.
    try:
        return joblib.load(path)
    except Exception as error:
        raise ValueError(
            f"{str(path)!r} is not a valid joblib file ({type(error).__name__}: "
            f"{error})."
        ) from error


def _is_versioned(stored):
    return (
        isinstance(stored, dict)
        and set(stored) == {_VERSION_KEY, _MODEL_KEY}
        and isinstance(stored[_VERSION_KEY], str)
    )
