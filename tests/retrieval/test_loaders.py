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
    assert p1.values("color") == ["Blue", "Black"] and p1.values("size") == ["S", "M"]
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
    assert set(hoodie.values("color")) == {"Black", "Gray", "Orange"}
    assert "XL" in hoodie.values("size") and hoodie.variants[0].options["size"] == "XS"
    assert hoodie.images[0] == "mh01-gray_main.jpg"
    assert sum(not p.visible for p in products) == 12
    on_sale = [p for p in products if p.list_price is not None]
    assert all(p.price < p.list_price for p in on_sale)


def test_unknown_format_and_missing_file_are_named(tmp_path):
    (tmp_path / "c.xlsx").write_bytes(b"PK")
    with pytest.raises(CatalogFormatError, match="unknown catalog format"):
        load_catalog(tmp_path / "c.xlsx")
    (tmp_path / "c.xml").write_text("<x/>")  # XML, but no feed's items
    with pytest.raises(CatalogFormatError, match="no <item> or <entry>"):
        load_catalog(tmp_path / "c.xml")
    with pytest.raises(CatalogFormatError, match="not found"):
        load_catalog(tmp_path / "nope.jsonl")


def test_vendures_multi_row_export_loads_through_its_mapping_file():
    from tests.conftest import VENDURE

    products, errors = load_catalog(VENDURE / "products.csv")
    assert not errors and len(products) == 54
    by_id = {p.id: p for p in products}
    laptop = by_id["laptop"]
    assert laptop.category == "Electronics/Computers" and laptop.attributes == {"brand": ["Apple"]}
    assert [v.label() for v in laptop.variants] == [
        "13 inch / 8GB",
        "15 inch / 8GB",
        "13 inch / 16GB",
        "15 inch / 16GB",
    ]
    assert laptop.price == 1299 and [v.price for v in laptop.variants][-1] == 2299
    assert by_id["modern-cafe-chair"].values("color") == ["mustard", "mint", "pearl"]
    assert by_id["tulip-pot"].attributes["plant type"] == ["Outdoor", "Indoor"]


def test_a_mapping_names_bad_variant_rows_and_orphans(tmp_path):
    (tmp_path / "p.mapping.toml").write_text(
        'continuation = "name"\n[columns]\nid = "slug"\ntitle = "name"\n'
        '[variant_columns]\nprice = "price"\n'
        '[options]\nnames = "groups"\nvalues = "values"\n'
    )
    (tmp_path / "p.csv").write_text(
        "name,slug,groups,values,price\n"
        ",orphan,,,1\n"
        "Desk,desk,size|colour,big|oak,10\n"
        ",,,small,8\n"
        ",,,small|pine,9\n"
    )
    products, errors = load_catalog(tmp_path / "p.csv")
    assert [v.label() for v in products[0].variants] == ["big / oak", "small / pine"]
    assert {e.line: e.reason for e in errors} == {
        2: "a variant row (empty 'name') with no product above",
        4: "values: 1 values for 2 option groups (size, colour)",
    }


def test_grocery_prices_currency_and_stock_come_from_the_csv():
    from tests.conftest import GROCERY

    products, errors = load_catalog(GROCERY / "products.csv")
    assert not errors and len(products) >= 120
    assert {p.currency for p in products} == {"EUR"} and not any(p.images for p in products)
    assert sum(not p.available for p in products) >= 3
    oil = next(p for p in products if p.id == "oil-001")
    assert oil.attributes["pack_size"] == ["750 ml"] and "vegan" in oil.attributes["dietary"]


def test_currency_is_read_from_the_price_cell(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text('id,title,price,stock\na,Tea,€2.49,0\nb,Jam,"1.299,00 €",4\n')
    products, _ = load_catalog(path)
    assert [(p.price, p.currency, p.available) for p in products] == [
        (2.49, "EUR", False),
        (1299.0, "EUR", True),
    ]


def test_odd_jsonl_rows_are_reported_and_never_abort(tmp_path):
    """Rows that used to abort the whole ingest: each is reported with its line."""
    path = tmp_path / "c.jsonl"
    deep = '{"id": "d", "title": "Deep", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    lines = [
        json.dumps({"id": "a", "title": "First row after a BOM", "price": 3}),
        '{"id": "b", "title": "Huge count", "review_count": 1e400}',
        deep,
        '{"id": "n", "title": "NaN price", "price": NaN}',
        json.dumps({"id": "c", "title": "Markup [/] in a title [bold]", "price": 2}),
    ]
    path.write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")
    products, errors = load_catalog(path)
    assert [p.id for p in products] == ["a", "c"]
    by_line = {e.line: e.reason for e in errors}
    assert "review_count" in by_line[2] and "finite" in by_line[2]
    assert "nested too deeply" in by_line[3]
    assert "price" in by_line[4]


def test_csv_separators_are_sniffed_and_unclosed_quotes_named(tmp_path):
    semi = tmp_path / "semi.csv"
    semi.write_text("id;title;price\na;Olive oil;4,99 €\nb;Tea;2,10 €\n")
    products, errors = load_catalog(semi)
    assert [(p.id, p.price) for p in products] == [("a", 4.99), ("b", 2.10)] and not errors

    one = tmp_path / "one.csv"
    one.write_text("id|title|price\na|Tea|2\n")
    with pytest.raises(CatalogFormatError, match="header has one column"):
        load_catalog(one)

    quote = tmp_path / "quote.csv"
    quote.write_text('id,title,price\na,"Unclosed title,3\nb,Swallowed row,4\nc,"Fine, quoted",5\n')
    products, errors = load_catalog(quote)
    assert errors and errors[0].line == 2 and "not closed" in errors[0].reason
    assert "lines 2–" in errors[0].reason
    assert all("Swallowed" not in p.title for p in products)


def test_a_scraped_feeds_shapes_read_as_what_they_mean(tmp_path):
    """A breadcrumb list beside the category path is that path; a ratings count is a review
    count; a top-level field and its attributes' same-named key are one attribute."""
    rows = [
        {
            "id": "a1",
            "title": "Slippers",
            "category": "Clothing / Men / Shoes / Slippers",
            "categories": ["Clothing", "Men", "Shoes", "Slippers"],
            "rating_count": 41,
            "brand": "Holm",
            "attributes": {"Brand": "Holm", "Color": "Red"},
        },
        {"id": "a2", "title": "Slippers", "category": "Shoes", "categories": ["Gifts/For Dad"]},
    ]
    path = tmp_path / "feed.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    (a, b), _ = load_catalog(path)
    assert a.categories == ["Clothing / Men / Shoes / Slippers"] and a.review_count == 41
    assert a.attributes == {"brand": ["Holm"], "Color": ["Red"]}
    assert b.categories == ["Shoes", "Gifts/For Dad"]


def test_a_file_in_one_currency_reads_its_bare_prices_in_it(tmp_path):
    path = tmp_path / "shop.csv"
    path.write_text('id;title;price\n1;Tea;"7,49 €"\n2;Salt;"1,20"\n', encoding="utf-8")
    products, errors = load_catalog(path)
    assert not errors
    assert [(p.price, p.currency) for p in products] == [(7.49, "EUR"), (1.2, "EUR")]
    mixed = tmp_path / "mixed.csv"
    mixed.write_text("id,title,price\n1,Tea,$3\n2,Salt,£2\n3,Oil,4\n", encoding="utf-8")
    assert [p.currency for p in load_catalog(mixed)[0]] == ["USD", "GBP", "USD"]
