"""Checks that the documentation sources refer to things that exist.

The Sphinx build (``python -m sphinx -W``) renders the pages and runs the
examples. These tests are faster and check what the build does not: that the
names the math page uses are names in the code, and that every example has
the layout sphinx-gallery expects.
"""

import ast
import importlib
import inspect
import re
from pathlib import Path

import pytest

import skmlp
from skmlp import ScratchMLPClassifier

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
EXAMPLES = ROOT / "examples"
# sphinx-gallery writes sg_execution_times.rst into docs/ on every build; it is
# not one of the written pages.
PAGES = [
    path
    for path in sorted(DOCS.glob("*.rst")) + sorted((DOCS / "user_guide").glob("*.rst"))
    if path.name != "sg_execution_times.rst"
]
EXAMPLE_FILES = sorted(EXAMPLES.glob("plot_*.py"))

# :func:`~skmlp.x.y`, :class:`skmlp.x.Y`, :meth:`~skmlp.x.Y.z` and so on.
_ROLE = re.compile(r":(?:func|class|meth|attr|data|mod):`~?(skmlp[\w.]*)`")
# \mathtt{learning\_rate\_init} in a formula.
_MATH_NAME = re.compile(r"\\mathtt\{([^}]*)\}")
# ``name``, ``name_`` or ``name[k]`` in running text.
_LITERAL_NAME = re.compile(r"``([A-Za-z_][A-Za-z0-9_]*)(?:\[[^\]]*\])?``")


def _resolve(dotted_name):
    """Import the longest module prefix of ``dotted_name`` and walk the rest."""
    parts = dotted_name.split(".")
    for split in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attribute in parts[split:]:
            target = getattr(target, attribute)
        return target
    raise ImportError(f"No importable module prefix of {dotted_name!r} was found.")


def _source_identifiers():
    """Return every identifier used in the package's source files."""
    names = set()
    for path in Path(skmlp.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Name):
                names.add(node.id)
            elif isinstance(node, ast.Attribute):
                names.add(node.attr)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                names.update(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", node.value))
    return names


@pytest.mark.parametrize("page", PAGES, ids=lambda path: path.name)
def test_docs_roles_resolve(page):
    targets = _ROLE.findall(page.read_text(encoding="utf-8"))

    for target in targets:
        assert _resolve(target) is not None, f"{page.name}: {target} is not found"


def test_math_formula_names_in_code():
    text = (DOCS / "math.rst").read_text(encoding="utf-8")
    names = {name.replace(r"\_", "_") for name in _MATH_NAME.findall(text)}
    parameters = set(ScratchMLPClassifier().get_params())
    fit_arguments = set(inspect.signature(ScratchMLPClassifier.fit).parameters)
    fitted_attributes = set(
        re.findall(r"^    (\w+_) :", ScratchMLPClassifier.__doc__, re.M)
    )

    unknown = names - parameters - fit_arguments - fitted_attributes

    assert "learning_rate_init" in names
    assert "max_grad_norm" in names
    assert unknown == set()


def test_math_literal_names_in_code():
    text = (DOCS / "math.rst").read_text(encoding="utf-8")
    names = set(_LITERAL_NAME.findall(text))
    identifiers = _source_identifiers()

    unknown = names - identifiers

    assert {"coefs_", "intercepts_", "velocities", "first_moments"} <= names
    assert unknown == set()


@pytest.mark.parametrize("example", EXAMPLE_FILES, ids=lambda path: path.name)
def test_example_layout(example):
    source = example.read_text(encoding="utf-8")
    docstring = ast.get_docstring(ast.parse(source))

    assert docstring is not None, "sphinx-gallery needs a module docstring"
    title_lines = docstring.strip().splitlines()
    assert set(title_lines[0]) == {"="}
    assert set(title_lines[2]) == {"="}
    assert "# %%" in source


def test_examples_all_listed():
    names = {path.name for path in EXAMPLE_FILES}

    assert names == {
        "plot_adult_pipeline.py",
        "plot_cross_validation.py",
        "plot_dask_grid_search.py",
        "plot_grid_search.py",
        "plot_partial_fit_chunks.py",
        "plot_persistence.py",
        "plot_training_curves.py",
    }
    assert (EXAMPLES / "GALLERY_HEADER.rst").is_file()
