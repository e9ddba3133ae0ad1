import pytest

from retrieval.filter_syntax import FilterSyntaxError, parse_filters


def test_parses_every_kind_of_filter():
    f = parse_filters(
        [
            "price_max=80",
            "price_min=$10",
            "colour=blue,black",
            "color!=yellow",
            "size=M",
            "category=men/tops",
            "material!=leather",
            "Activity=Hiking",
            "available=true",
        ],
        attribute_keys=["material", "activity"],
    )
    assert (f.price_min, f.price_max) == (10, 80)
    assert f.colors == ["blue", "black"] and f.exclude_colors == ["yellow"]
    assert f.sizes == ["M"] and f.categories == ["men/tops"]
    assert f.exclude_attributes == {"material": ["leather"]}
    assert f.attributes == {"activity": ["Hiking"]}
    assert f.available_only


@pytest.mark.parametrize(
    "item, message",
    [
        ("price_max=cheap", "not a number"),
        ("colour", "expected key=value"),
        ("matrial=wool", "unknown key 'matrial'"),
        ("price_max!=3", "one number"),
    ],
)
def test_bad_filters_name_the_problem(item, message):
    with pytest.raises(FilterSyntaxError, match=message):
        parse_filters([item], attribute_keys=["material"])


def test_inverted_price_range_is_an_error():
    with pytest.raises(FilterSyntaxError, match="above"):
        parse_filters(["price_min=50", "price_max=10"])
