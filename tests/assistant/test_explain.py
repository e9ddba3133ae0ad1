"""Reasons that explain: the shopper's needs matched to each product's catalog facts, on
the three catalog shapes. Fast: the catalogs are read, not indexed."""

import functools

import pytest

from assistant.explain import explain, needs_of, partial_note, product_facts
from assistant.grounding import check_reply
from assistant.records import DialogueState
from assistant.wording import template_reply
from ranking.rank import RankedItem
from retrieval.facets import matching_variants, product_matches
from retrieval.lexicon import Lexicon
from retrieval.loaders import load_catalog
from retrieval.schema import SearchFilters
from tests.conftest import CATALOGS


@functools.cache
def shop(name):
    products, _ = load_catalog(CATALOGS[name])
    return products, Lexicon.build(products)


def shown(name, filters: SearchFilters, title_has: str = "", n: int = 5) -> list[RankedItem]:
    """Products the search could show: they meet the filters, with their matching variants."""
    products, _ = shop(name)
    hits = [
        p
        for p in products
        if product_matches(p, filters) and title_has.casefold() in p.title.casefold()
    ]
    return [
        RankedItem(product=p, score=1.0, matching_variants=matching_variants(p, filters))
        for p in hits[:n]
    ]


def test_each_stated_need_is_named_with_the_fact_that_shows_it_luma():
    f = SearchFilters(facets={"color": ["Blue"]}, price_max=80, price_max_strict=True)
    items = shown("luma", f, "jacket")
    assert items
    state = DialogueState(need="warm jacket hiking", categories=["jackets"], filters=f)
    _, lex = shop("luma")
    exps = explain(items, state, lex)
    for exp in exps:
        assert "in Blue" in exp.text and "under $80" in exp.text
        # "warm" is met by a fact that says it, or said to be missing: never left out
        assert ("warm" in exp.met) != ("warm" in exp.missing)
        if "warm" in exp.met:
            fact = exp.fact(exp.met["warm"][0])
            assert "warm" in fact.text.casefold()
        else:
            assert "nothing listed about" in exp.text and "warm" in exp.text
        assert "jacket" not in exp.met and "jacket" not in exp.missing  # its kind is no need
    assert len({e.text for e in exps}) == len(exps)


def test_dietary_values_and_need_words_on_the_grocery_shop():
    f = SearchFilters(facets={"dietary": ["vegan"]}, price_max=4, price_max_strict=True)
    items = shown("grocery", f, "chocolate")
    assert len(items) >= 2
    state = DialogueState(need="dark chocolate", categories=["chocolate & sweets"], filters=f)
    _, lex = shop("grocery")
    exps = explain(items, state, lex)
    for item, exp in zip(items, exps, strict=True):
        assert "vegan (dietary)" in exp.text and "under €4" in exp.text
        darks = "dark" in item.product.title.casefold() or "dark" in item.product.description
        assert ("dark" in exp.met) == darks, exp.text
    note = partial_note(exps)
    if any(e.missing for e in exps):
        assert "dark" in note


def test_a_quantity_asked_for_is_shown_with_the_products_own_value():
    from retrieval.schema import QuantityFilter, Range

    q = QuantityFilter(dimension="volume", range=Range(min=1000, max=1000), label="1 l")
    f = SearchFilters(quantities=[q])
    items = shown("grocery", f)
    assert items
    _, lex = shop("grocery")
    exps = explain(items, DialogueState(filters=f), lex)
    assert all("1 L" in e.text or "1 l" in e.text for e in exps), [e.text for e in exps]


@pytest.mark.parametrize("name", ["luma", "vendure", "grocery"])
def test_every_reason_is_grounded_and_none_repeats_within_a_reply(name):
    products, lex = shop(name)
    by_kind: dict[str, list] = {}
    for p in products:
        by_kind.setdefault(p.category, []).append(p)
    checked = 0
    for kind, group in list(by_kind.items())[:25]:
        items = [RankedItem(product=p, score=1.0) for p in group[:5]]
        # the need: a word of the first product's description, and a word no product has
        word = next((w for w in group[0].description.split() if len(w) > 5 and w.isalpha()), "")
        state = DialogueState(need=f"{word} zyxwv", categories=[kind.split("/")[-1]])
        reasons = [e.text for e in explain(items, state, lex)]
        assert len(set(reasons)) == len(reasons), reasons
        lines = template_reply(items, state, lex, reasons).splitlines()[1:]  # the product lines
        assert check_reply("\n".join(lines), items, state.filters, lex) == [], lines
        assert all("zyxwv" in r for r in reasons)  # what no fact speaks to is said plainly
        checked += len(items)
    assert checked >= 20


@pytest.mark.parametrize("name", ["luma", "vendure", "grocery"])
def test_facts_are_numbered_from_one_and_the_price_comes_first(name):
    products, lex = shop(name)
    for p in products[:30]:
        facts = product_facts(RankedItem(product=p, score=1.0))
        assert [f.n for f in facts] == list(range(1, len(facts) + 1))
        assert facts[0].key == "price" and any(f.key == "name" for f in facts)


def test_the_need_words_leave_out_the_kind_and_the_values_already_counted():
    _, lex = shop("vendure")
    f = SearchFilters(facets={"brand": ["Sony"]})
    state = DialogueState(need="sony wireless headphones", categories=["headphones"], filters=f)
    labels = {n.label: n.kind for n in needs_of(state, lex)}
    assert labels == {"Sony": "value", "wireless": "word"}


def test_of_several_values_asked_a_reason_names_the_one_the_product_has():
    products, lex = shop("grocery")
    origins = {v for p in products for v in p.values("origin")}
    two = sorted(origins)[:2]
    f = SearchFilters(facets={"origin": two})
    items = shown("grocery", f, n=10)
    assert items
    exps = explain(items, DialogueState(filters=f), lex)
    for item, exp in zip(items, exps, strict=True):
        held = [v for v in two if v in item.product.values("origin")]
        assert f"{' or '.join(held)} (origin)" in exp.text, exp.text
        assert " or ".join(two) not in exp.text or len(held) == 2
