"""Integration: the packaged models on the bundled Luma catalog (slow: ~1 minute to index)."""

import pytest

from retrieval.facets import product_matches
from retrieval.index import ProductIndex
from retrieval.schema import SearchFilters, SearchRequest
from retrieval.search import HybridSearcher
from tests.conftest import LUMA

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(demo_index):
    config, report = demo_index
    return report, HybridSearcher(ProductIndex(config))


def _categories(searcher, text, k=5, **filters):
    result = searcher.search(SearchRequest(text=text, k=k, filters=SearchFilters(**filters)))
    return result, [c.product.category for c in result.candidates]


def test_the_whole_catalog_is_indexed_with_every_photo(demo):
    report, _ = demo
    assert report.indexed == 199 and not report.skipped and not report.missing_images
    assert report.photos_encoded == 723 and report.hidden == 12


@pytest.mark.parametrize(
    "query, category",
    [
        ("hoodie", "Hoodies & Sweatshirts"),
        ("a backpack for school", "Gear/Bags"),
        ("running shorts", "Bottoms/Shorts"),
        ("sports watch", "Gear/Watches"),
        ("yoga video", "Training/Video Download"),
    ],
)
def test_sensible_queries_find_sensible_products(demo, query, category):
    _, searcher = demo
    _, cats = _categories(searcher, query)
    assert sum(category in c for c in cats) >= 4, cats


def test_a_category_filter_narrows_to_the_department(demo):
    # "for men" is a constraint the dialogue engine turns into this filter
    _, searcher = demo
    _, cats = _categories(searcher, "running shorts", categories=["men"])
    assert cats == ["Men/Bottoms/Shorts"] * 5


def test_filters_hold_on_the_real_catalog(demo):
    _, searcher = demo
    f = SearchFilters(
        price_max=60,
        facets={"color": ["blue"], "size": ["M"]},
        exclude_facets={"color": ["yellow"]},
        categories=["jackets"],
    )
    result = searcher.search(SearchRequest(text="warm jacket for hiking", filters=f, k=20))
    assert result.candidates and all(product_matches(c.product, f) for c in result.candidates)
    assert all("Blue / M" in {v.label() for v in c.matching_variants} for c in result.candidates)


def test_a_photo_of_a_product_returns_that_product_first(demo):
    _, searcher = demo
    for photo, pid in [
        ("mh01-gray_main.jpg", "MH01"),
        ("mb03-black-0.jpg", "24-MB03"),
        ("wj08-gray_main.jpg", "WJ08"),
        ("mg03-br-0.jpg", "24-MG03"),
    ]:
        path = LUMA / "images" / photo
        if not path.exists():
            pytest.skip(f"{photo} not in the catalog")
        result = searcher.search(SearchRequest(image_path=str(path), k=3))
        assert result.candidates[0].product.id == pid


def test_text_to_image_alone_finds_product_kinds_imagenet_knows(demo):
    """The ConSE bridge by itself (no product text): backpacks and watches come up."""
    _, searcher = demo
    import numpy as np

    index = searcher.index
    allowed = index.facets.mask(SearchFilters())
    for query, category in [("backpack", "Gear/Bags"), ("wrist watch", "Gear/Watches")]:
        vec = searcher.text_embedder.embed([query])[0]
        ranking = searcher._image_text(query, vec, allowed)
        top = index.products([int(r) for r in np.asarray(ranking.rows[:5])])
        assert sum(p.category == category for p in top) >= 3, [p.title for p in top]


def test_colour_from_pixels_lifts_products_of_that_colour(demo):
    _, searcher = demo
    result = searcher.search(SearchRequest(text="blue hoodie", k=5))
    assert all("Hoodies" in c.product.category for c in result.candidates)
    assert sum("Blue" in c.product.values("color") for c in result.candidates) >= 3
