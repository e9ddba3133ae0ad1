import pytest

from retrieval.filter_syntax import FilterSyntaxError, parse_filters


def test_parses_every_kind_of_filter():
    f = parse_filters(
        [
            "price<80",
            "price_min=$10",
            "colour=blue,black",
            "color!=yellow",
            "size=M",
            "category=men/tops",
            "material!=leather",
            "Activity=Hiking",
            "RAM>=16GB",
            "quantity<2 kg",
            "screen size=15 inch",
            "available=true",
        ],
        facet_keys=["Color", "size", "material", "activity", "RAM", "screen size"],
    )
    assert (f.price_min, f.price_max, f.price_max_strict, f.price_min_strict) == (
        10,
        80,
        True,
        False,
    )
    assert f.facets == {"Color": ["blue", "black"], "size": ["M"], "activity": ["Hiking"]}
    assert f.exclude_facets == {"Color": ["yellow"], "material": ["leather"]}
    assert f.categories == ["men/tops"] and f.available_only
    ram, weight, screen = f.quantities
    assert (ram.dimension, ram.keys, ram.range.min) == ("data", ["RAM"], 16)
    assert (weight.dimension, weight.keys, weight.range.max, weight.range.max_strict) == (
        "mass",
        [],
        2000,
        True,
    )
    assert screen.range.min == screen.range.max == pytest.approx(15 * 2.54)


def test_euro_and_thousands_are_read():
    assert parse_filters(["price<=1.299,00 €"]).price_max == 1299
    assert parse_filters(["price<€9.50"]).price_max == 9.5


@pytest.mark.parametrize(
    "item, message",
    [
        ("price<cheap", "not a number"),
        ("colour", "expected key=value"),
        ("matrial=wool", "unknown key 'matrial'"),
        ("price!=3", "price takes one number"),
        ("material>3", "not a number with a unit"),
        ("price<1e400", "not a finite number"),  # would read as infinity
    ],
)
def test_bad_filters_name_the_problem(item, message):
    with pytest.raises(FilterSyntaxError, match=message):
        parse_filters([item], facet_keys=["material"])


def test_inverted_price_range_is_an_error():
    with pytest.raises(FilterSyntaxError, match="above"):
        parse_filters(["price_min=50", "price_max=10"])
