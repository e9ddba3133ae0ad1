"""An ingest crashed at each of its points leaves the old index or the new one, never a
mix, on the three catalog shapes; `aisle ingest --check` finds a corrupted one; an empty
catalog never replaces an index; a reader pinned to a generation keeps reading it whole.

Most crashes are raised in this process (`AISLE_FAULT_MODE=raise`, the same points) so the
models load once; one is a real SIGKILL of `aisle ingest` in a child process."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from base.faults import POINTS, SimulatedCrash
from retrieval.config import RetrievalConfig
from retrieval.index import ProductIndex
from retrieval.index_check import check_index
from retrieval.ingest import ingest
from retrieval.loaders import CatalogFormatError, load_catalog

from ..conftest import GROCERY, LUMA, VENDURE

pytestmark = pytest.mark.slow


def _luma(folder: Path) -> tuple[Path, Path]:
    rows = [json.loads(line) for line in (LUMA / "products.jsonl").read_text().splitlines()[:30]]
    a, b = folder / "a.jsonl", folder / "b.jsonl"
    a.write_text("".join(json.dumps(r) + "\n" for r in rows))
    changed = [dict(r) for r in reversed(rows[:-1])]  # another order, one product gone
    key = "title" if "title" in changed[0] else "name"
    changed[0][key] = changed[0][key] + " (new edition)"
    b.write_text("".join(json.dumps(r) + "\n" for r in changed))
    (folder / "images").symlink_to(LUMA / "images")  # photos are found beside the catalog
    return a, b


def _grocery(folder: Path) -> tuple[Path, Path]:
    text = (GROCERY / "products.csv").read_text()
    rows = list(csv.DictReader(io.StringIO(text)))
    a, b = folder / "a.csv", folder / "b.csv"
    _write_csv(a, rows)
    changed = [dict(r) for r in reversed(rows[:-3])]
    changed[0]["title"] = changed[0]["title"] + " extra large"
    _write_csv(b, changed)
    return a, b


def _vendure(folder: Path) -> tuple[Path, Path]:
    lines = (VENDURE / "products.csv").read_text().splitlines(keepends=True)
    # whole products: a new product starts where the name column is filled
    starts = [i for i, line in enumerate(lines) if i and line.split(",")[0].strip()]
    a, b = folder / "a.csv", folder / "b.csv"
    a.write_text("".join(lines[: starts[25]]))
    first_name = next(csv.reader([lines[1]]))[0].strip()
    b.write_text("".join(lines[: starts[24]]).replace(first_name, first_name + " Pro", 1))
    for f in (a, b):
        shutil.copy(VENDURE / "products.mapping.toml", f.with_suffix(".mapping.toml"))
    (folder / "images").symlink_to(VENDURE / "images")
    return a, b


def _write_csv(path: Path, rows: list[dict]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


SHOPS = {"luma": _luma, "vendure": _vendure, "grocery": _grocery}


def _state(config: RetrievalConfig) -> list[tuple[str, str]]:
    """What a reader sees: every product's id and record, in row order."""
    return [(p.id, p.model_dump_json()) for p in ProductIndex(config).all_products()]


@pytest.fixture(scope="module", params=sorted(SHOPS))
def built(request, tmp_path_factory):
    """Each shop's two versions, A indexed once; what a reader of A and of B sees."""
    folder = tmp_path_factory.mktemp(request.param)
    a, b = SHOPS[request.param](folder)
    config = RetrievalConfig(index_dir=folder / "base", device="cpu")
    ingest(a, config, progress=False)
    expected_a = _state(config)
    probe = RetrievalConfig(index_dir=folder / "probe", device="cpu")
    shutil.copytree(config.index_dir, probe.index_dir)
    ingest(b, probe, progress=False)
    expected_b = _state(probe)
    assert expected_a != expected_b
    return request.param, a, b, config, expected_a, expected_b


@pytest.fixture
def versions(built, tmp_path):
    """`built`, with a copy of A's index of this test's own to break."""
    name, a, b, base, expected_a, expected_b = built
    config = RetrievalConfig(index_dir=tmp_path / "index", device="cpu")
    shutil.copytree(base.index_dir, config.index_dir)
    return name, a, b, config, expected_a, expected_b


def test_a_crash_at_any_point_leaves_the_old_index_or_the_new_one(versions, tmp_path, monkeypatch):
    name, _, b, base, expected_a, expected_b = versions
    monkeypatch.setenv("AISLE_FAULT_MODE", "raise")
    outcomes = {}
    for point in POINTS:
        config = RetrievalConfig(index_dir=tmp_path / f"crash-{point}", device="cpu")
        shutil.copytree(base.index_dir, config.index_dir)
        monkeypatch.setenv("AISLE_FAULT_AT", point)
        with pytest.raises(SimulatedCrash):
            ingest(b, config, progress=False)
        monkeypatch.delenv("AISLE_FAULT_AT")
        seen = _state(config)
        assert seen in (expected_a, expected_b), (name, point)
        outcomes[point] = "old" if seen == expected_a else "new"
        report = check_index(ProductIndex(config))
        assert report.ok, (name, point, report.problems)
        # the next ingest finishes the job, whatever the crash left
        ingest(b, config, progress=False)
        assert _state(config) == expected_b
        after = check_index(ProductIndex(config), embed=False)
        assert after.ok and not after.notes, (name, point, after.problems, after.notes)
        assert len(ProductIndex(config).generations()) <= 2  # old generations are collected
    assert outcomes["generation-written"] == "old" and outcomes["switched"] == "new"


def test_a_reader_keeps_its_generation_and_sees_when_a_newer_one_is_live(versions):
    _, _, b, config, expected_a, expected_b = versions
    reader = ProductIndex(config)
    before = [(p.id, p.model_dump_json()) for p in reader.all_products()]
    ids, vectors = list(reader.ids), reader.vectors.text.copy()
    assert not reader.is_stale()
    ingest(b, config, progress=False)
    assert reader.is_stale()
    # still the old generation, whole: rows, ids and vectors agree with each other
    assert [(p.id, p.model_dump_json()) for p in reader.all_products()] == before == expected_a
    assert reader.ids == ids and np.array_equal(reader.vectors.text, vectors)
    assert _state(config) == expected_b  # a new reader sees the new one


def test_check_finds_rows_carrying_another_products_vector(versions):
    _, _, _, config, _, _ = versions
    index = ProductIndex(config)
    folder = index.gen_dir / "vectors"
    text = np.load(folder / "text.npy")
    np.save(folder / "text.npy", np.roll(text, 1, axis=0))  # every row: its neighbour's vector
    report = check_index(ProductIndex(config), sample=1000)
    assert not report.ok
    assert any("another text's vector" in p for p in report.problems), report.problems
    assert any("vectors differ" in p for p in report.problems), report.problems


def test_an_empty_catalog_never_replaces_an_index(versions, tmp_path):
    _, a, _, config, expected_a, _ = versions
    empty = tmp_path / f"empty{a.suffix}"
    empty.write_text("" if a.suffix == ".jsonl" else a.read_text().splitlines()[0] + "\n")
    if a.with_suffix(".mapping.toml").is_file():
        shutil.copy(a.with_suffix(".mapping.toml"), empty.with_suffix(".mapping.toml"))
    with pytest.raises(CatalogFormatError, match="left as it was"):
        ingest(empty, config, progress=False)
    assert _state(config) == expected_a
    assert check_index(ProductIndex(config)).ok


def test_kill_9_in_the_middle_of_aisle_ingest(tmp_path, tiny_text_model):
    """The real thing, once: SIGKILL after the new vectors are written (where the old
    index was corrupted for good), then the same command finishes the job."""
    a, b = _grocery(tmp_path)
    env = {
        **os.environ,
        "AISLE_INDEX_DIR": str(tmp_path / "index"),
        "AISLE_TEXT_MODEL": tiny_text_model,
        "AISLE_DEVICE": "cpu",
    }
    cmd = [sys.executable, "-m", "cli", "ingest", "--quiet", "--json"]
    subprocess.run([*cmd, str(a)], env=env, check=True, capture_output=True)
    config = RetrievalConfig(index_dir=tmp_path / "index", text_model=tiny_text_model)
    before = _state(config)
    killed = subprocess.run(
        [*cmd, str(b)], env={**env, "AISLE_FAULT_AT": "vectors-written"}, capture_output=True
    )
    assert killed.returncode == -9
    assert _state(config) == before
    assert check_index(ProductIndex(config)).ok
    subprocess.run([*cmd, str(b)], env=env, check=True, capture_output=True)
    assert [pid for pid, _ in _state(config)] == [p.id for p in load_catalog(b)[0]]
