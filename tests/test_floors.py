"""The floors of the house (docs/architecture.md): cli → evals → ui → assistant → ranking →
retrieval → base, each importing only the floors below it, kept by import-linter's
contract in pyproject.toml."""

from __future__ import annotations

import tomllib
from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[1]


def test_every_import_points_down_the_floors(monkeypatch):
    monkeypatch.chdir(ROOT)
    assert lint_imports(no_cache=True) == 0  # its report names the import that broke it


def test_every_package_stands_on_a_floor():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    layers = config["tool"]["importlinter"]["contracts"][0]["layers"]
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests"}
    assert packages == set(layers)
    assert set(config["tool"]["importlinter"]["root_packages"]) == packages
