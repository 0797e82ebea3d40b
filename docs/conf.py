"""Sphinx configuration of the skmlp documentation.

Build with ``python -m sphinx -W --keep-going -b html docs docs/_build/html``.
The build runs every example in ``examples/`` and needs no network access.
Set ``SKMLP_DOCS_INTERSPHINX=1`` to link to the Python, numpy and scikit-learn
documentation, whose inventories are then downloaded.
"""

import os
from importlib.metadata import version as installed_version

project = "skmlp"
author = "The skmlp developers"
copyright = "the skmlp developers"
release = installed_version("skmlp")
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build"]
root_doc = "index"

# API pages
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
# numpydoc lists the members of classes itself when this is True, which repeats
# the autosummary table of the class template and makes duplicate stubs.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# Cross-references to other projects. Their inventories would be downloaded,
# so they are off by default: without them, references to numpy or
# scikit-learn objects render as code, without a link and without a warning.
intersphinx_mapping = {}
if os.environ.get("SKMLP_DOCS_INTERSPHINX") == "1":
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
        "sklearn": ("https://scikit-learn.org/stable", None),
        "joblib": ("https://joblib.readthedocs.io/en/stable", None),
    }

# Examples gallery. Every script whose name starts with plot_ runs during the
# build, so a broken example fails it.
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
    "doc_module": ("skmlp",),
    "backreferences_dir": "gen_modules/backreferences",
    "reference_url": {"skmlp": None},
    "download_all_examples": False,
    "remove_config_comments": True,
    "plot_gallery": "True",
}

html_theme = "pydata_sphinx_theme"
html_title = f"skmlp {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_static_path = []
