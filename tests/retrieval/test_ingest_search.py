"""Ingestion and hybrid search on a tiny catalog, with a tiny real text model built in the
test and the packaged EfficientNet-Lite0."""

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retrieval.color import basic_colors
from retrieval.facets import product_matches
from retrieval.index import ProductIndex
from retrieval.ingest import ingest
from retrieval.schema import SearchFilters, SearchRequest
from retrieval.search import HybridSearcher


def _rewrite(path, change):
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    rows = change(rows)
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")


def test_ingest_reports_and_reingest_is_incremental(tiny_catalog, tiny_config):
    first = ingest(tiny_catalog, tiny_config, progress=False)
    assert (first.rows_read, first.indexed, first.added) == (5, 5, 5)
    assert [(m.product_id, m.image, m.reason) for m in first.missing_images] == [
        ("B1", "missing.png", "file not found")
    ]
    assert first.photos_encoded == 5 and first.texts_embedded == 5

    again = ingest(tiny_catalog, tiny_config, progress=False)
    assert (again.unchanged, again.texts_embedded, again.photos_encoded) == (5, 0, 0)

    def change(rows):
        rows[0]["price"] = 65  # J1 changes
        return [r for r in rows if r["id"] != "W1"] + [
            {"id": "N1", "title": "New shorts", "price": 20, "images": ["j1.png"]}
        ]

    _rewrite(tiny_catalog, change)
    third = ingest(tiny_catalog, tiny_config, progress=False)
    assert (third.updated, third.added, third.removed, third.unchanged) == (1, 1, 1, 3)
    assert third.texts_embedded == 2 and third.photos_encoded == 0  # j1.png was known

    index = ProductIndex(tiny_config)
    assert index.product("J1").price == 65 and index.product("W1") is None
    assert set(index.ids) == {"J1", "J2", "H1", "B1", "N1"}
    assert index.store.count(index.manifest.collection("text")) == 5  # Chroma follows the catalog
    result = HybridSearcher(index).search(SearchRequest(text="sport watch running"))
    assert "W1" not in [c.product.id for c in result.candidates]


def test_a_changed_photo_is_re_encoded(tiny_catalog, tiny_config):
    ingest(tiny_catalog, tiny_config, progress=False)
    from PIL import Image

    Image.new("RGB", (50, 50), (220, 20, 20)).save(tiny_catalog.parent / "images" / "w1.png")
    report = ingest(tiny_catalog, tiny_config, progress=False)
    # the product is updated and its photo encoded; its text, unchanged, is not embedded again
    assert (report.updated, report.photos_encoded, report.texts_embedded) == (1, 1, 0)
    index = ProductIndex(tiny_config)
    row = index.ids.index("W1")
    assert index.vectors.color[row].argmax() == basic_colors().index("red")  # was green


def test_photos_decoded_ahead_in_batches_give_the_same_vectors(tiny_catalog, tiny_config):
    """Ingest decodes the next batch of photos while it encodes this one: in small batches
    (three, one of them holding a broken file) the vectors are those of one batch, and the
    broken photo is reported by name."""
    (tiny_catalog.parent / "images" / "b1.png").write_bytes(b"not a png")
    one = tiny_config.model_copy(update={"index_dir": tiny_config.index_dir.with_name("one")})
    small = tiny_config.model_copy(update={"batch_size": 2})
    whole, batched = (
        ingest(tiny_catalog, one, progress=False),
        ingest(tiny_catalog, small, progress=False),
    )
    for report in (whole, batched):
        assert report.photos_encoded == 4
        assert any(
            m.image.endswith("b1.png") and "unreadable" in m.reason for m in report.missing_images
        )
    a, b = ProductIndex(one).vectors, ProductIndex(small).vectors
    assert list(a.photo_digests) == list(b.photo_digests)
    for name in ("photo_visual", "photo_text", "photo_color"):
        assert np.allclose(getattr(a, name), getattr(b, name), atol=1e-5), name


def test_bad_rows_are_skipped_and_the_rest_indexed(tiny_catalog, tiny_config):
    with tiny_catalog.open("a") as f:
        f.write('{"id": "X", "price": 3}\n{broken\n')
    report = ingest(tiny_catalog, tiny_config, progress=False)
    assert report.indexed == 5
    assert [(e.line, e.reason.split(" (")[0]) for e in report.skipped] == [
        (6, "no title"),
        (7, "invalid JSON: Expecting property name enclosed in double quotes"),
    ]


@pytest.fixture
def searcher(tiny_catalog, tiny_config):
    ingest(tiny_catalog, tiny_config, progress=False)
    return HybridSearcher(ProductIndex(tiny_config))


def test_search_reports_signals_and_respects_filters(searcher):
    # the tiny model's weights are random, so only the lexical ranking is predictable here
    result = searcher.search(SearchRequest(text="waterproof jacket", k=5))
    by_id = {c.product.id: c for c in result.candidates}
    assert by_id["J1"].signals["lexical"].rank == 1
    assert {"lexical", "dense", "image_text"} <= set(by_id["J1"].signals)
    assert "lexical" not in by_id["W1"].signals  # no shared word

    result = searcher.search(SearchRequest(text="jacket", filters=SearchFilters(price_max=80)))
    ids = [c.product.id for c in result.candidates]
    assert "J1" in ids and "J2" not in ids and result.total_matching == 4

    result = searcher.search(
        SearchRequest(
            text="jacket", filters=SearchFilters(facets={"color": ["blue"], "size": ["M"]})
        )
    )
    assert [c.product.id for c in result.candidates] == ["J1"]
    assert [v.label() for v in result.candidates[0].matching_variants] == ["Blue / M"]


def test_an_empty_result_says_which_constraint_emptied_it(searcher):
    result = searcher.search(
        SearchRequest(text="jacket", filters=SearchFilters(facets={"color": ["red"]}, price_max=50))
    )
    assert result.candidates == [] and result.total_matching == 0
    assert "color=red" in result.empty_reason and "price 50 or less" in result.empty_reason


def test_a_products_photo_finds_that_product_first(searcher, tiny_catalog):
    images = tiny_catalog.parent / "images"
    for name, pid in [("j2.png", "J2"), ("b1.png", "B1"), ("w1.png", "W1")]:
        result = searcher.search(SearchRequest(image_path=str(images / name)))
        assert result.candidates[0].product.id == pid
        assert set(result.candidates[0].signals) == {"image"}


def test_colour_words_add_the_pixel_colour_signal_but_negations_do_not(searcher):
    assert searcher.query_colors("a red jacket", SearchFilters()) == ["red"]
    assert searcher.query_colors("jacket, not yellow", SearchFilters()) == []
    assert searcher.query_colors("jacket", SearchFilters(facets={"color": ["Navy"]})) == ["blue"]
    result = searcher.search(SearchRequest(text="red"))
    by_id = {c.product.id: c for c in result.candidates}
    assert by_id["J2"].signals["color"].rank == 1  # the red photo


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    text=st.sampled_from(["jacket", "warm hoodie", "bag", "blue", "", "watch for running"]),
    price_max=st.one_of(st.none(), st.sampled_from([40.0, 60.0, 100.0])),
    colors=st.lists(st.sampled_from(["blue", "red", "black", "yellow"]), max_size=2),
    exclude=st.lists(st.sampled_from(["yellow", "blue"]), max_size=1),
    material=st.lists(st.sampled_from(["Leather", "Nylon"]), max_size=1),
)
def test_no_returned_product_ever_violates_a_filter(
    searcher, text, price_max, colors, exclude, material
):
    f = SearchFilters(
        price_max=price_max,
        price_max_strict=bool(colors),
        facets={"color": colors} if colors else {},
        exclude_facets={
            **({"color": exclude} if exclude else {}),
            **({"material": material} if material else {}),
        },
    )
    result = searcher.search(SearchRequest(text=text, filters=f, k=10))
    assert all(product_matches(c.product, f) for c in result.candidates)
    assert len(result.candidates) <= result.total_matching
    assert (result.total_matching == 0) == (result.empty_reason is not None)


def test_each_photo_is_decoded_once_and_the_page_gets_its_small_copy(
    tiny_catalog, tiny_config, monkeypatch
):
    import retrieval.ingest as ingest_module

    opened = []
    real = ingest_module.open_image
    monkeypatch.setattr(
        ingest_module, "open_image", lambda path, most: opened.append(path) or real(path, most)
    )
    report = ingest(tiny_catalog, tiny_config, progress=False)
    photos = report.photos_encoded
    assert photos > 0
    assert len(opened) == photos  # the page's copy is made from the decoded photo, not a re-read
    index = ProductIndex(tiny_config)
    copies = sorted(index.photos_dir.glob("*.jpg"))
    assert len(copies) == photos and not list(index.photos_dir.glob("*.tmp.jpg"))
    from PIL import Image

    from retrieval.ingest import WEB_PHOTO_PX

    assert all(max(Image.open(c).size) <= WEB_PHOTO_PX for c in copies)


def test_photos_download_while_the_texts_are_embedded(tiny_catalog, tiny_config, monkeypatch):
    """The download of photos by URL is not waited for before the texts are embedded: the
    fetch here only returns once the embedding has begun (sequential stages would wait 10 s
    for nothing and fail)."""
    import threading

    import retrieval.ingest as ingest_module
    from retrieval.text_embedder import TextEmbedder

    embedding = threading.Event()
    seen: list[bool] = []
    real_embed = TextEmbedder.embed

    def embed(self, texts, progress=False):
        embedding.set()
        return real_embed(self, texts, progress)

    def fetch(products, config, index_dir, progress, report):
        seen.append(embedding.wait(timeout=10))
        return {}

    monkeypatch.setattr(TextEmbedder, "embed", embed)
    monkeypatch.setattr(ingest_module, "_fetch_photos", fetch)
    report = ingest(tiny_catalog, tiny_config, progress=False)
    assert seen == [True] and report.texts_embedded == 5


def test_a_re_ingest_hashes_each_product_once(tiny_catalog, tiny_config, monkeypatch):
    """The text stage hashes the products with last time's photo digests; where the photos
    are the same, the plan reuses that hash instead of hashing the product again."""
    from retrieval.schema import Product

    ingest(tiny_catalog, tiny_config, progress=False)
    calls: list[str] = []
    real = Product.content_hash

    def counted(self, image_digests=None):
        calls.append(self.id)
        return real(self, image_digests)

    monkeypatch.setattr(Product, "content_hash", counted)
    report = ingest(tiny_catalog, tiny_config, progress=False)
    assert report.unchanged == 5 and sorted(calls) == sorted(set(calls)) and len(calls) == 5
