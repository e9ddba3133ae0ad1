import math

import pytest
from pydantic import ValidationError

from retrieval.schema import Product, Range, SearchFilters, Variant


def test_blank_id_and_negative_price_are_rejected():
    with pytest.raises(ValidationError, match="id"):
        Product(id="  ", title="x")
    with pytest.raises(ValidationError, match="price"):
        Product(id="a", title="x", price=-1)
    with pytest.raises(ValidationError, match="finite"):
        Product(id="a", title="x", price=math.inf)


def test_facet_values_come_from_options_variants_and_attributes():
    p = Product(
        id="a",
        title="t",
        variant_options={"color": ["Blue"]},
        variants=[
            Variant(options={"color": "blue", "size": "M"}),
            Variant(options={"color": "Red", "size": "L"}),
        ],
        attributes={"Color": ["Black"]},
    )
    assert p.values("color") == ["Blue", "Red", "Black"]  # "blue" folds into "Blue"
    assert p.values("size") == ["M", "L"] and p.facet_keys() == ["color", "size"]


def test_a_product_without_variants_gets_one_per_option_combination():
    p = Product(
        id="a", title="t", price=5, variant_options={"color": ["Blue", "Red"], "size": ["S"]}
    )
    combos = {v.label() for v in p.purchasable_variants()}
    assert combos == {"Blue / S", "Red / S"}
    assert Product(id="b", title="t").purchasable_variants()[0].options == {}


def test_a_range_is_strict_or_inclusive():
    under = Range(max=60, max_strict=True)
    assert not under.contains(60) and under.contains(59.99)
    assert Range(max=60).contains(60) and not Range(min=20, min_strict=True).contains(20)


def test_content_hash_follows_content_and_photo_bytes():
    p = Product(id="a", title="t", images=["x.jpg"])
    assert p.content_hash({"x.jpg": "1"}) == p.content_hash({"x.jpg": "1"})
    assert p.content_hash({"x.jpg": "1"}) != p.content_hash({"x.jpg": "2"})
    assert p.content_hash() != Product(id="a", title="t2", images=["x.jpg"]).content_hash()


def test_price_range_must_be_ordered():
    with pytest.raises(ValidationError, match="above"):
        SearchFilters(price_min=50, price_max=10)


def test_what_a_record_keeps_computed_follows_a_copy_and_stays_out_of_its_data():
    p = Product(
        id="a",
        title="t",
        price=5,
        variant_options={"Flavour": ["Mint"]},
        attributes={"Brand": ["Acme"]},
    )
    assert p.values("brand") == ["Acme"] and p.purchasable_variants()[0].option("flavour")
    p.values("brand").append("changed by a caller")  # a copy: the kept values are not hit
    assert p.values("brand") == ["Acme"]
    q = p.model_copy(update={"attributes": {"Brand": ["Other"], "Diet": ["vegan"]}})
    assert q.values("brand") == ["Other"] and q.facet_keys() == ["Flavour", "Brand", "Diet"]
    r = p.model_copy(update={"variant_options": {"Flavour": ["Lime"]}, "price": 7})
    assert [(v.option("flavour"), v.price) for v in r.purchasable_variants()] == [("Lime", 7)]
    again = Product.model_validate_json(p.model_dump_json())
    assert again == p and "_facets" not in p.model_dump_json()
    v = Variant(options={"Size": "M"})
    assert (
        v.option("size") == "M"
        and v.model_copy(update={"options": {"Size": "L"}}).option("SIZE") == "L"
    )
