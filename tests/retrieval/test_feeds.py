"""The standard feeds read as they are: Google Merchant Center's TSV and Shopify's product
export, recognised by their headers; a shop's own mapping still wins."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.loaders import CatalogFormatError, load_catalog
from retrieval.mapping import html_text

FEEDS = Path(__file__).parent / "feeds"


def test_a_merchant_center_feed_groups_variants_and_reads_its_cells():
    products, errors = load_catalog(FEEDS / "merchant-center.tsv")
    by_id = {p.id: p for p in products}
    tee = by_id["TS"]  # item_group_id: one product, each row a variant
    assert [v.sku for v in tee.variants] == ["TS-R-M", "TS-R-L", "TS-B-M"]
    assert tee.variants[0].options == {"color": "Red", "size": "M"}
    assert tee.variants[0].price == 29.0  # on sale
    assert not tee.variants[1].available  # "out of stock"
    assert tee.price == 29.0 and tee.list_price == 35.0 and tee.currency == "USD"
    assert tee.category == "Apparel/Tops/T-Shirts"  # "Apparel > Tops > T-Shirts"
    assert tee.description == "Soft merino tee & quick-dry.\n150 g"  # HTML read as text
    assert tee.images[:3] == [
        "https://img.example/ts-red.jpg",
        "https://img.example/ts-red-2.jpg",  # additional_image_link
        "https://img.example/ts-red-3.jpg",
    ]
    assert tee.values("brand") == ["Trailco"]
    mug = by_id["MUG-1"]  # no group: a product of its own
    assert mug.price == 12.5 and mug.category == "Home/Kitchen/Mugs" and not mug.variants
    assert [(e.line, e.product_id) for e in errors] == [(6, "BAD-1")]
    assert "price" in errors[0].reason


def test_a_shopify_export_reads_variants_options_and_photo_rows():
    products, errors = load_catalog(FEEDS / "products_export.csv")
    tee, mug = products
    assert (
        tee.id == "trail-tee" and tee.title == "Trail Tee" and tee.description == "Soft merino tee."
    )
    assert [v.options for v in tee.variants] == [
        {"Color": "Red", "Size": "M"},
        {"Color": "Red", "Size": "L"},  # option names from the product's first row
        {"Color": "Blue", "Size": "M"},
    ]
    assert [v.available for v in tee.variants] == [True, False, True]  # inventory 4, 0, 7
    assert tee.price == 29.0 and tee.list_price == 35.0
    assert "https://img.example/tt-red-back.jpg" in tee.images  # a row's extra photo
    assert "https://img.example/tt-blue.jpg" in tee.images  # a variant's photo
    assert tee.values("brand") == ["Trailco"] and tee.category == "T-Shirts"
    assert mug.variants[0].options == {}  # "Default Title": no option
    assert mug.description == "Enamel mug & lid"
    assert [e.line for e in errors] == [6]  # a row with no Handle: no product id


def test_a_mapping_beside_the_feed_still_wins(tmp_path):
    feed = tmp_path / "feed.tsv"
    feed.write_text((FEEDS / "merchant-center.tsv").read_text())
    (tmp_path / "feed.mapping.toml").write_text('[columns]\nid = "gtin"\ntitle = "title"\n')
    products, _ = load_catalog(feed)
    assert {p.id for p in products} >= {"0001", "0002", "0004"}  # rows, not groups


def test_html_is_read_as_text():
    assert html_text("<p>One&nbsp;<b>two</b></p><script>x()</script><br>three") == (
        "One two\nthree"
    )
    assert html_text("plain & simple") == "plain & simple"


def test_a_feed_is_ingested_as_it_is(tmp_path, tiny_config):
    from retrieval.ingest import ingest

    feed = tmp_path / "feed.tsv"  # no mapping beside it: known by its header
    feed.write_text((FEEDS / "merchant-center.tsv").read_text())
    offline = tiny_config.model_copy(update={"fetch_images": False})
    report = ingest(feed, offline, progress=False)
    assert report.indexed == 2 and [e.line for e in report.skipped] == [6]
    # photos not fetched: each is reported, the products indexed by their text
    assert report.missing_images and all("remote" in m.reason for m in report.missing_images)


def test_an_rss_feed_with_g_fields_reads_like_the_tsv():
    products, errors = load_catalog(FEEDS / "merchant-center.xml")
    (tee,) = products
    assert tee.id == "TS" and [v.sku for v in tee.variants] == ["TS-R-M", "TS-B-M"]
    assert tee.price == 29.0 and tee.category == "Apparel/Tops/T-Shirts"
    assert tee.images[1:3] == [
        "https://img.example/ts-red-2.jpg",
        "https://img.example/ts-red-3.jpg",
    ]
    assert tee.description == "Soft merino tee." and not tee.variants[1].available
    assert [e.product_id for e in errors] == ["MUG-1"] and errors[0].line > 0


def test_an_xml_feed_never_expands_entities_or_reads_files(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    feed = tmp_path / "feed.xml"
    feed.write_text(
        f"""<?xml version="1.0"?>
<!DOCTYPE rss [
  <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
  <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
  <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
  <!ENTITY x SYSTEM "file://{secret}">
]>
<rss xmlns:g="http://base.google.com/ns/1.0"><channel><item>
<g:id>1</g:id><g:title>Mug &c;</g:title><g:description>&x;</g:description>
<g:image_link>https://img.example/m.jpg</g:image_link><g:availability>in stock</g:availability>
<g:price>5 USD</g:price></item></channel></rss>"""
    )
    products, _ = load_catalog(feed)
    assert [p.id for p in products] == ["1"]
    text = " ".join(p.title + p.description for p in products)
    assert "TOP-SECRET" not in text and "aaaaaaaaaa" not in text
    broken = tmp_path / "broken.xml"
    broken.write_text("<rss><channel><item><g:id>1</item></rss>")
    with pytest.raises(CatalogFormatError, match="line 1"):
        load_catalog(broken)
