import json

import pytest

from retrieval.loaders import CatalogFormatError, load_catalog


def test_jsonl_bad_rows_are_reported_with_their_line_and_the_rest_kept(tmp_path):
    lines = [
        json.dumps({"id": "a", "title": "Good one", "price": "19.90"}),
        "{not json",
        json.dumps({"id": "b"}),
        "",
        json.dumps({"id": "c", "name": "Negative", "price": -3}),
        json.dumps({"id": "a", "title": "Duplicate"}),
        json.dumps(["a list"]),
        json.dumps({"sku": "d", "name": "Uses sku and name", "price": "$5"}),
    ]
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join(lines))
    products, errors = load_catalog(path)
    assert [p.id for p in products] == ["a", "d"]
    assert products[0].price == pytest.approx(19.9) and products[1].price == 5
    by_line = {e.line: e.reason for e in errors}
    assert set(by_line) == {2, 3, 5, 6, 7}
    assert "invalid JSON" in by_line[2]
    assert "no title" in by_line[3]
    assert "price" in by_line[5]
    assert "duplicate id 'a'" in by_line[6] and "line 1" in by_line[6]
    assert "not a JSON object" in by_line[7]


def test_csv_lists_attributes_and_line_numbers_across_multiline_cells(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text(
        "id,title,description,price,color,size,material,images\n"
        'p1,Rain jacket,"Two\nlines",70,Blue|Black,S|M,Nylon,p1.jpg|p1b.jpg\n'
        "p2,,no title,10,,,,\n"
        "p3,Mug,Ceramic,abc,,,,\n"
        "p4,Cap,Cotton cap,12,Red,,Cotton,\n"
    )
    products, errors = load_catalog(path)
    assert [p.id for p in products] == ["p1", "p4"]
    p1 = products[0]
    assert p1.colors == ["Blue", "Black"] and p1.sizes == ["S", "M"]
    assert p1.attributes["material"] == ["Nylon"] and p1.images == ["p1.jpg", "p1b.jpg"]
    assert {e.line: e.reason.split(":")[0] for e in errors} == {
        4: "no title (expected one of",
        5: "price",
    }


def test_luma_rows_map_sale_prices_flags_and_hidden_components():
    from tests.conftest import LUMA

    products, errors = load_catalog(LUMA / "products.jsonl")
    assert not errors and len(products) == 199
    by_id = {p.id: p for p in products}
    hoodie = by_id["MH01"]
    assert hoodie.category == "Men/Tops/Hoodies & Sweatshirts"
    assert hoodie.attributes["eco_collection"] == ["yes"]
    assert set(hoodie.colors) == {"Black", "Gray", "Orange"} and "XL" in hoodie.sizes
    assert hoodie.images[0] == "mh01-gray_main.jpg"
    assert sum(not p.visible for p in products) == 12
    on_sale = [p for p in products if p.list_price is not None]
    assert all(p.price < p.list_price for p in on_sale)


def test_unknown_format_and_missing_file_are_named(tmp_path):
    (tmp_path / "c.xml").write_text("<x/>")
    with pytest.raises(CatalogFormatError, match="unknown catalog format"):
        load_catalog(tmp_path / "c.xml")
    with pytest.raises(CatalogFormatError, match="not found"):
        load_catalog(tmp_path / "nope.jsonl")
