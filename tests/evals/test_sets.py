"""`aisle eval` finds the set written for an index's catalog; no set name is built in."""

import pytest

from evals.sets import set_for_catalog

from ..conftest import CATALOGS


@pytest.mark.parametrize("shop", sorted(CATALOGS))
def test_each_bundled_catalog_has_its_set(shop):
    assert set_for_catalog(str(CATALOGS[shop])) == shop


def test_a_catalog_without_a_set_has_none(tmp_path):
    other = tmp_path / "products.csv"
    other.write_text("id,title\n1,Tea\n")
    assert set_for_catalog(str(other)) is None
    assert set_for_catalog("") is None


@pytest.mark.slow
@pytest.mark.parametrize("fixture", ["demo_index", "vendure_index", "grocery_index"])
def test_an_index_records_the_catalog_it_was_built_from(fixture, request):
    from retrieval.index import ProductIndex

    config = request.getfixturevalue(fixture)[0]
    catalog = ProductIndex(config).manifest.catalog
    assert set_for_catalog(catalog) in {"luma", "vendure", "grocery"}
