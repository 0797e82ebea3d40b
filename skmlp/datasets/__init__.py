"""Data sets shipped with skmlp, loaded from package data without network access."""

from ._adult import load_adult

__all__ = ["load_adult"]
