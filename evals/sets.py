"""Eval sets: one folder per catalog under `evals/sets/` (or any folder a shop's engineers
write), holding

    set.toml            catalog = "path/to/products.csv" (what the set was written for)
    queries.jsonl       judged queries with written relevance criteria (evals/criteria.py)
    judged-dev.jsonl    …graded over every product: `python -m evals.judge SET`
    judged-test.jsonl
    dialogues.jsonl     scripted dialogues: each turn's intent, slots, and the constraints
                        every product shown must satisfy ("expect"), split dev/test
    nlu.jsonl           optional: more turns with intents and slots only

`--set luma` names a folder here; `--set path/to/folder` any other."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel

HERE = Path(__file__).parent / "sets"
REPO = Path(__file__).resolve().parents[1]


class EvalSet(BaseModel):
    name: str
    folder: Path
    catalog: Path | None = None
    description: str = ""

    def file(self, name: str) -> Path:
        return self.folder / name

    def has(self, name: str) -> bool:
        return (self.folder / name).is_file()


def load_set(name_or_path: str) -> EvalSet:
    folder = Path(name_or_path)
    if not folder.is_dir():
        folder = HERE / name_or_path
    if not folder.is_dir():
        known = ", ".join(sorted(p.name for p in HERE.iterdir() if p.is_dir()))
        raise ValueError(f"no eval set {name_or_path!r} (sets here: {known}; or give a folder)")
    meta = {}
    if (folder / "set.toml").is_file():
        meta = tomllib.loads((folder / "set.toml").read_text())
    catalog = meta.get("catalog")
    path = None
    if catalog:
        path = Path(catalog) if Path(catalog).is_absolute() else REPO / catalog
    return EvalSet(
        name=folder.name, folder=folder, catalog=path, description=meta.get("description", "")
    )


def all_sets() -> list[str]:
    return sorted(p.name for p in HERE.iterdir() if (p / "set.toml").is_file())


def set_for_catalog(catalog: str) -> str | None:
    """The name of the set whose `set.toml` names this catalog file, if one does."""
    if not catalog:
        return None
    for name in all_sets():
        es = load_set(name)
        if es.catalog is not None and es.catalog.resolve() == Path(catalog).resolve():
            return name
    return None
