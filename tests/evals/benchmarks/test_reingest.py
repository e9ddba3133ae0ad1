"""The re-ingest benchmark's edited catalog: exactly the share asked is changed, the rest
reads back as the same products (so an ingest keeps their vectors)."""

from evals.benchmarks.reingest import _edited
from retrieval.loaders import load_catalog
from tests.conftest import CATALOGS


def test_the_edited_catalog_changes_only_the_share_asked(tmp_path):
    before, _ = load_catalog(CATALOGS["grocery"])
    after, errors = load_catalog(_edited(CATALOGS["grocery"], tmp_path, 0.05))
    assert not errors and [p.id for p in after] == [p.id for p in before]
    changed = [
        a for a, b in zip(after, before, strict=True) if a.content_hash({}) != b.content_hash({})
    ]
    assert len(changed) == round(0.05 * len(before))
    assert all(p.title.endswith(" (new)") for p in changed)
