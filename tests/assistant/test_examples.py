"""The page's, console's and LLM reader's examples come from each shop's own catalog."""

import pytest

from assistant.examples import (
    common_kind,
    common_value,
    example_conversation,
    example_request,
    reader_examples,
)
from base.language.text import fold
from retrieval.lexicon import Lexicon
from retrieval.loaders import load_catalog

CATALOGS = {
    "luma": "data/luma/products.jsonl",
    "vendure": "data/vendure/products.csv",
    "grocery": "data/grocery/products.csv",
}


@pytest.fixture(scope="module")
def lexicons() -> dict[str, Lexicon]:
    return {name: Lexicon.build(load_catalog(path)[0]) for name, path in CATALOGS.items()}


def _kinds(lex: Lexicon) -> set[str]:
    return {c.segment for c in lex.kinds()}


@pytest.mark.parametrize("shop", list(CATALOGS))
def test_the_example_request_is_in_the_shops_own_words_and_currency(lexicons, shop):
    lex = lexicons[shop]
    kind = common_kind(lex)
    assert kind in _kinds(lex)
    text = example_request(lex, 37.0, None)
    assert kind in text
    assert ("€" if lex.currency == "EUR" else "$") + "40" in text  # rounded up, shop's money
    others = set().union(*(_kinds(lexicons[o]) for o in CATALOGS if o != shop)) - _kinds(lex)
    assert not any(f" {k} " in f" {fold(text)} " for k in others), text


@pytest.mark.parametrize("shop", list(CATALOGS))
def test_a_value_offered_is_one_the_shop_holds(lexicons, shop):
    lex = lexicons[shop]
    found = common_value(lex)
    if found is not None:
        key, value = found
        assert value in lex.facets[key].values


@pytest.mark.parametrize("shop", list(CATALOGS))
def test_the_reader_examples_use_this_catalogs_kind(lexicons, shop):
    lex = lexicons[shop]
    text, reading = reader_examples(lex)[0]
    assert reading["need"] == common_kind(lex) and reading["need"] in text
    for entry in reading.get("exclude_facets", []):
        key, _, value = entry.partition("=")
        assert value in lex.facets[key].values


def test_the_example_conversation_names_the_product_given():
    assert "the Blue Widget" in example_conversation("Blue Widget")
    assert "something" in example_conversation(None)
