import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retrieval.facets import FacetIndex, matching_variants, product_matches
from retrieval.loaders import load_catalog
from retrieval.schema import Product, QuantityFilter, Range, SearchFilters, Variant

from ..conftest import GROCERY, LUMA, VENDURE

COLORS = ["Blue", "Navy", "Red", "Yellow", "Light Gray"]
SIZES = ["S", "M", "L", "32"]
RAM = ["8GB", "16GB", "1 TB"]
CATEGORIES = ["Men/Tops/Jackets", "Women/Tops/Jackets", "Men/Bottoms/Shorts", "Gear/Bags"]
MATERIALS = ["Wool", "Leather", "Nylon"]
PACKS = ["500 g", "1 kg", "6 x 330 ml", "250 ml"]

options = st.fixed_dictionaries(
    {},
    optional={
        "color": st.sampled_from(COLORS),
        "size": st.sampled_from(SIZES),
        "RAM": st.sampled_from(RAM),
    },
)
variants = st.builds(
    Variant,
    options=options,
    price=st.one_of(st.none(), st.sampled_from([10.0, 59.99, 60.0, 60.01, 120.0])),
    available=st.booleans(),
)
products = st.builds(
    Product,
    id=st.uuids().map(str),
    title=st.sampled_from(["Trail Jacket", "Sprite Ball 65 cm", "Fusion Backpack", "p"]),
    category=st.sampled_from(CATEGORIES),
    categories=st.lists(st.sampled_from(CATEGORIES), max_size=2),
    price=st.one_of(st.none(), st.sampled_from([10.0, 59.99, 60.0, 60.01, 120.0])),
    attributes=st.fixed_dictionaries(
        {},
        optional={
            "material": st.lists(st.sampled_from(MATERIALS), min_size=1, max_size=2),
            "color": st.lists(st.sampled_from(COLORS), min_size=1, max_size=2),
            "pack size": st.lists(st.sampled_from(PACKS), min_size=1, max_size=1),
        },
    ),
    variant_options=st.fixed_dictionaries(
        {}, optional={"size": st.lists(st.sampled_from(SIZES), min_size=1, max_size=2)}
    ),
    variants=st.lists(variants, max_size=4),
    available=st.booleans(),
    visible=st.booleans(),
)
quantities = st.builds(
    lambda dim, keys, lo, hi, strict: QuantityFilter(
        dimension=dim, keys=keys, range=Range(min=lo, max=hi, min_strict=strict)
    ),
    dim=st.sampled_from(["data", "mass", "volume", "length", "count"]),
    keys=st.sampled_from([[], ["RAM"], ["pack size"]]),
    lo=st.one_of(st.none(), st.sampled_from([8.0, 16.0, 330.0, 500.0, 6.0, 65.0])),
    hi=st.one_of(st.none(), st.sampled_from([16.0, 1000.0, 330.0, 6.0, 65.0])),
    strict=st.booleans(),
)
filters = st.builds(
    lambda lo, hi, lo_s, hi_s, **kw: SearchFilters(
        price_min=lo,
        price_max=hi if (lo is None or hi is None or hi >= lo) else None,
        price_min_strict=lo_s,
        price_max_strict=hi_s,
        **kw,
    ),
    lo=st.one_of(st.none(), st.sampled_from([10.0, 59.99, 60.0])),
    hi=st.one_of(st.none(), st.sampled_from([60.0, 60.01, 200.0])),
    lo_s=st.booleans(),
    hi_s=st.booleans(),
    categories=st.lists(
        st.sampled_from(["men", "jackets", "tops/jackets", "gear/bags", "backpack", "x"]),
        max_size=2,
    ),
    exclude_categories=st.lists(st.sampled_from(["women", "bags"]), max_size=1),
    facets=st.dictionaries(
        st.sampled_from(["color", "size", "material", "RAM"]),
        st.lists(st.sampled_from(["blue", "Red", "navy", "M", "32", "Wool", "16GB"]), min_size=1),
        max_size=2,
    ),
    exclude_facets=st.dictionaries(
        st.sampled_from(["color", "material", "size"]),
        st.lists(st.sampled_from(["yellow", "blue", "Leather", "S"]), min_size=1),
        max_size=1,
    ),
    quantities=st.lists(quantities, max_size=1),
    available_only=st.booleans(),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(catalog=st.lists(products, min_size=1, max_size=12), f=filters)
def test_vectorised_filter_equals_the_reference_rule(catalog, f):
    mask = FacetIndex.build(catalog).mask(f)
    assert mask.tolist() == [product_matches(p, f) for p in catalog]


def _jacket(**kw):
    kw = {"id": "j", "price": 60, **kw}
    return Product(title="Jacket", category="Men/Tops/Jackets", **kw)


def V(price=None, available=True, **options):  # noqa: N802 - reads like a record
    return Variant(options=options, price=price, available=available)


def test_options_must_meet_on_one_variant():
    p = _jacket(variants=[V(color="Blue", size="S"), V(color="Red", size="M")])
    assert product_matches(p, SearchFilters(facets={"color": ["blue"], "size": ["S"]}))
    assert not product_matches(p, SearchFilters(facets={"color": ["blue"], "size": ["M"]}))
    assert matching_variants(p, SearchFilters(facets={"size": ["M"]})) == [p.variants[1]]


def test_basic_colours_match_shades_only_on_a_colour_facet():
    p = _jacket(variants=[V(color="Navy")], attributes={"finish": ["Navy"]})
    assert product_matches(p, SearchFilters(facets={"color": ["blue"]}))
    assert not product_matches(p, SearchFilters(facets={"finish": ["blue"]}))


def test_exclusions_keep_products_with_an_escaping_variant():
    p = _jacket(variants=[V(color="Yellow"), V(color="Blue")])
    assert product_matches(p, SearchFilters(exclude_facets={"color": ["yellow"]}))
    only = _jacket(variants=[V(color="Yellow")])
    assert not product_matches(only, SearchFilters(exclude_facets={"color": ["yellow"]}))
    leather = _jacket(attributes={"material": ["Nylon", "Leather"]})
    assert not product_matches(leather, SearchFilters(exclude_facets={"material": ["leather"]}))


def test_a_variant_takes_its_products_attributes_for_facets_it_has_no_option_for():
    p = _jacket(attributes={"brand": ["Acme"]}, variants=[V(size="S"), V(size="M")])
    f = SearchFilters(facets={"brand": ["acme"], "size": ["M"]})
    assert product_matches(p, f) and matching_variants(p, f) == [p.variants[1]]


def test_under_a_price_excludes_the_price_itself_and_prices_are_per_variant():
    p = _jacket(price=60.0)
    assert not product_matches(p, SearchFilters(price_max=60, price_max_strict=True))
    assert product_matches(p, SearchFilters(price_max=60))  # "$60 or less"
    laptop = Product(
        id="l", title="Laptop", price=1299, variants=[V(1299, RAM="8GB"), V(2199, RAM="16GB")]
    )
    f = SearchFilters(
        price_max=1500,
        quantities=[QuantityFilter(dimension="data", keys=["RAM"], range=Range(min=16))],
    )
    assert not product_matches(laptop, f)  # the 16 GB one costs more: no variant meets both
    assert product_matches(laptop, f.model_copy(update={"price_max": 2500}))


def test_quantities_compare_across_units_and_fall_back_to_the_title():
    oil = Product(id="o", title="Olive Oil", attributes={"pack size": ["1 L"]})
    beer = Product(id="b", title="Lager", attributes={"pack size": ["6 x 330 ml"]})
    ball = Product(id="s", title="Sprite Stasis Ball 65 cm")

    def q(dim, **r):
        return SearchFilters(quantities=[QuantityFilter(dimension=dim, range=Range(**r))])

    assert product_matches(oil, q("volume", min=1000, max=1000))  # 1 L is 1000 ml
    assert product_matches(beer, q("count", min=6, max=6)) and product_matches(
        beer, q("volume", max=330)
    )
    assert product_matches(ball, q("length", min=65)) and not product_matches(
        ball, q("length", min=70)
    )
    assert not product_matches(oil, q("mass", min=1))  # no weight stated anywhere


def test_a_title_kind_is_a_category_below_the_products_own():
    backpack = Product(id="b", title="Fusion Backpack", category="Gear/Bags")
    tote = Product(id="t", title="Savvy Shoulder Tote", category="Gear/Bags")
    index = FacetIndex.build([backpack, tote])
    assert index.mask(SearchFilters(categories=["backpack"])).tolist() == [True, False]
    assert index.mask(SearchFilters(categories=["bags"])).tolist() == [True, True]


def test_an_empty_result_names_the_constraint_that_emptied_it():
    index = FacetIndex.build([_jacket(variants=[V(color="Blue")])])
    why = index.explain_empty(SearchFilters(facets={"color": ["pink"]}))
    assert why.startswith("no product matches color=pink") and "Blue" in why
    why = index.explain_empty(SearchFilters(price_max=10, categories=["jackets"]))
    assert "price" in why


def test_save_and_load_round_trip(tmp_path):
    catalog = [_jacket(variants=[V(color="Blue", RAM="16GB")], attributes={"brand": ["Acme"]})]
    FacetIndex.build(catalog).save(tmp_path)
    loaded = FacetIndex.load(tmp_path)
    f = SearchFilters(
        facets={"brand": ["acme"]},
        quantities=[QuantityFilter(dimension="data", range=Range(min=16))],
    )
    assert loaded.mask(f).tolist() == [True]
    assert loaded.values_of("color") == ["Blue"]


@pytest.mark.parametrize(
    "catalog", [LUMA / "products.jsonl", VENDURE / "products.csv", GROCERY / "products.csv"]
)
def test_vectorised_filter_equals_the_rule_on_the_three_catalogs(catalog):
    """Filters drawn from each shop's own values (options, attributes, prices, categories)
    through every path of the mask: product-level prices alone, a few products' variants,
    the whole variant table."""
    products, _ = load_catalog(catalog)
    index = FacetIndex.build(products)
    rng = random.Random(0)
    keys = index.keys()
    prices = sorted(p.price for p in products if p.price is not None)
    cats = sorted({p.category for p in products if p.category})
    for _ in range(150):
        price = rng.choice(prices)
        kw = {}
        if rng.random() < 0.7:
            kw[rng.choice(["price_max", "price_min"])] = price
        if rng.random() < 0.3:
            kw.update(price_min=price * 0.5, price_max=price * 1.2)
        if rng.random() < 0.4:
            kw["categories"] = [rng.choice(cats).split("/")[0]]
        elif rng.random() < 0.5:
            kw["exclude_categories"] = [rng.choice(cats)]
        facets, excluded = {}, {}
        for key in rng.sample(keys, k=min(len(keys), rng.randint(0, 2))):
            values = index.values_of(key)
            (facets if rng.random() < 0.7 else excluded)[key] = rng.sample(values, 1)
        f = SearchFilters(
            facets=facets,
            exclude_facets=excluded,
            available_only=rng.random() < 0.3,
            price_max_strict=rng.random() < 0.5,
            **kw,
        )
        assert index.mask(f).tolist() == [product_matches(p, f) for p in products], f
