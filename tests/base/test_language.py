"""The general language layer: one tokeniser, one money reader, one quantity reader."""

import pytest

from base.language.money import find_money, format_money, parse_amount
from base.language.quantities import find_quantities
from base.language.text import fold, term, words


def test_one_tokeniser_folds_case_accents_and_plurals():
    assert words("Crème Brûlée & Men's T-Shirts") == ["creme", "brulee", "men's", "t-shirts"]
    assert fold("Crème") == "creme" and len(fold("Crème")) == len("Crème")
    assert {term(w) for w in ("hoodies", "hoody", "Hoodie")} == {"hoody"}
    assert term("cactus") == "cactus" and term("tomatoes") == "tomato" and term("shoes") == "shoe"


@pytest.mark.parametrize(
    "text, amount, currency",
    [
        ("under $60", 60, "USD"),
        ("60 dollars", 60, "USD"),
        ("€12.50", 12.5, "EUR"),
        ("12,50 €", 12.5, "EUR"),
        ("₹1,299", 1299, "INR"),
        ("10 euros", 10, "EUR"),
        ("£5", 5, "GBP"),
    ],
)
def test_money_in_any_currency(text, amount, currency):
    (m,) = find_money(text)
    assert (m.amount, m.currency) == (amount, currency)


def test_amounts_and_prices_written_back():
    assert parse_amount("1.299,00") == 1299 and parse_amount("1,299.00") == 1299
    assert format_money(2.5, "EUR") == "€2.50" and format_money(1299, "USD") == "$1,299.00"
    assert format_money(None) == "price not listed"


@pytest.mark.parametrize(
    "text, dimension, value, count",
    [
        ("500 g", "mass", 500, None),
        ("1L", "volume", 1000, None),
        ("6 x 330 ml", "volume", 330, 6),
        ("a 55-inch tv", "length", 139.7, None),
        ("16GB", "data", 16, None),
        ("2 TB", "data", 2000, None),
        ("70% cocoa", "percent", 70, None),
        ("a 6-pack", "count", 6, None),
    ],
)
def test_quantities_with_units(text, dimension, value, count):
    (q,) = find_quantities(text)
    assert (q.dimension, q.count) == (dimension, count) and q.value == pytest.approx(value)


def test_in_is_not_an_inch_unless_glued():
    assert not find_quantities("size 10 in blue") and find_quantities("a 55in tv")
