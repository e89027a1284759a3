"""Build configuration that pyproject.toml cannot express: the packages of the wheel.

Every package and data folder under consultations/ (found, so a new area needs no edit
here), plus consultations.templates, consultations.static and consultations.migrations
with their subfolders, which pyproject.toml ([tool.setuptools.package-dir]) maps to the
top-level templates/, static/ and migrations/ of the checkout: an installed Mesa carries
them inside its package. Listing the data folders too keeps setuptools from warning that
it includes them only as a deprecated fallback. tests/test_packaging.py builds the wheel
and checks that it holds every file.
"""
from pathlib import Path

from setuptools import find_namespace_packages, setup

HERE = Path(__file__).resolve().parent
RESOURCES = {"consultations.templates": "templates", "consultations.static": "static",
             "consultations.migrations": "migrations"}


def _folders(package: str, folder: str) -> list[str]:
    root = HERE / folder
    subfolders = sorted(p for p in root.rglob("*") if p.is_dir() and "__pycache__" not in p.parts)
    return [package, *(".".join([package, *p.relative_to(root).parts]) for p in subfolders)]


packages = find_namespace_packages(where=str(HERE), include=["consultations", "consultations.*"],
                                   exclude=["*__pycache__*"])
for package, folder in RESOURCES.items():
    packages += _folders(package, folder)

setup(packages=packages)
