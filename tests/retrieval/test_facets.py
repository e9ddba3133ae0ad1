from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retrieval.facets import FacetIndex, product_matches
from retrieval.schema import Product, SearchFilters, Variant

COLORS = ["Blue", "Navy", "Red", "Yellow", "Light Gray"]
SIZES = ["S", "M", "L", "32"]
CATEGORIES = ["Men/Tops/Jackets", "Women/Tops/Jackets", "Men/Bottoms/Shorts", "Gear/Bags"]
MATERIALS = ["Wool", "Leather", "Nylon"]

variants = st.builds(
    Variant,
    color=st.sampled_from([*COLORS, None]),
    size=st.sampled_from([*SIZES, None]),
    available=st.booleans(),
)
products = st.builds(
    Product,
    id=st.uuids().map(str),
    title=st.just("p"),
    category=st.sampled_from(CATEGORIES),
    categories=st.lists(st.sampled_from(CATEGORIES), max_size=2),
    price=st.one_of(st.none(), st.floats(0, 200)),
    attributes=st.dictionaries(
        st.just("material"),
        st.lists(st.sampled_from(MATERIALS), min_size=1, max_size=2),
        max_size=1,
    ),
    variant_options=st.fixed_dictionaries(
        {},
        optional={
            "color": st.lists(st.sampled_from(COLORS), min_size=1, max_size=2),
            "size": st.lists(st.sampled_from(SIZES), min_size=1, max_size=2),
        },
    ),
    variants=st.lists(variants, max_size=4),
    available=st.booleans(),
    visible=st.booleans(),
)
prices = st.tuples(
    st.one_of(st.none(), st.floats(0, 50)), st.one_of(st.none(), st.floats(0, 200))
).filter(lambda t: t[0] is None or t[1] is None or t[0] <= t[1])
filters = st.builds(
    lambda price_range, **kw: SearchFilters(
        price_min=price_range[0], price_max=price_range[1], **kw
    ),
    price_range=prices,
    categories=st.lists(
        st.sampled_from(["men", "jackets", "tops/jackets", "gear/bags", "x"]), max_size=2
    ),
    colors=st.lists(st.sampled_from(["blue", "Red", "navy", "gray"]), max_size=2),
    sizes=st.lists(st.sampled_from(SIZES), max_size=2),
    exclude_colors=st.lists(st.sampled_from(["yellow", "blue"]), max_size=1),
    exclude_sizes=st.lists(st.sampled_from(SIZES), max_size=1),
    exclude_categories=st.lists(st.sampled_from(["women", "bags"]), max_size=1),
    attributes=st.dictionaries(
        st.just("material"), st.lists(st.sampled_from(MATERIALS), min_size=1), max_size=1
    ),
    exclude_attributes=st.dictionaries(
        st.just("material"), st.lists(st.sampled_from(MATERIALS), min_size=1), max_size=1
    ),
    available_only=st.booleans(),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(catalog=st.lists(products, min_size=1, max_size=12), f=filters)
def test_vectorised_filter_equals_the_reference_rule(catalog, f):
    mask = FacetIndex.build(catalog).mask(f)
    assert mask.tolist() == [product_matches(p, f) for p in catalog]


def _jacket(**kw):
    kw = {"id": "j", "price": 60, **kw}
    return Product(title="Jacket", category="Men/Tops/Jackets", **kw)


def test_colour_and_size_must_meet_on_one_variant():
    p = _jacket(variants=[Variant(color="Blue", size="S"), Variant(color="Red", size="M")])
    assert not product_matches(p, SearchFilters(colors=["blue"], sizes=["M"]))
    assert product_matches(p, SearchFilters(colors=["blue"], sizes=["S"]))


def test_exclusion_keeps_a_product_that_also_comes_in_another_colour():
    multi = _jacket(variants=[Variant(color="Yellow"), Variant(color="Blue")])
    only_yellow = _jacket(variants=[Variant(color="Yellow")])
    f = SearchFilters(exclude_colors=["yellow"])
    assert product_matches(multi, f) and not product_matches(only_yellow, f)


def test_basic_colours_match_shop_shades_and_categories_match_sub_paths():
    navy = _jacket(variant_options={"color": ["Navy"]})
    assert product_matches(navy, SearchFilters(colors=["blue"]))
    assert not product_matches(navy, SearchFilters(colors=["red"]))
    for path in ["men", "Men/Tops", "tops/jackets", "Jackets"]:
        assert product_matches(navy, SearchFilters(categories=[path])), path
    assert not product_matches(navy, SearchFilters(categories=["men/jackets"]))


def test_empty_results_name_the_constraint_that_emptied_them():
    index = FacetIndex.build(
        [
            _jacket(id="a", variant_options={"color": ["Blue"]}),
            _jacket(id="b", variant_options={"color": ["Red"]}, price=20),
        ]
    )
    assert "color=teal" in index.explain_empty(SearchFilters(colors=["teal"]))
    assert "Blue" in index.explain_empty(SearchFilters(colors=["teal"]))  # the catalog's colours
    why = index.explain_empty(SearchFilters(colors=["blue"], price_max=30))
    assert "price_max=30" in why and "color=blue" in why and "leaves no product" in why


def test_vocabulary_lists_the_catalogs_own_words():
    index = FacetIndex.build(
        [
            _jacket(
                variant_options={"color": ["Navy"], "size": ["M"]},
                attributes={"material": ["Wool"]},
            )
        ]
    )
    vocab = index.vocabulary()
    assert vocab["color"] == ["Navy"] and vocab["size"] == ["M"]
    assert vocab["material"] == ["wool"] and "tops/jackets" in vocab["category"]


def test_save_and_load_round_trip(tmp_path):
    catalog = [
        _jacket(id="a", variant_options={"color": ["Blue"]}, attributes={"material": ["Wool"]}),
        _jacket(id="b", price=None),
    ]
    FacetIndex.build(catalog).save(tmp_path)
    loaded = FacetIndex.load(tmp_path)
    f = SearchFilters(colors=["blue"], attributes={"material": ["wool"]}, price_max=100)
    assert loaded.mask(f).tolist() == [True, False]
