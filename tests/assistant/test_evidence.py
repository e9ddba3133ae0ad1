"""Values read from words: which filter and which only re-rank (assistant/evidence.py), on a
scraped catalog's shape (a brand named like a colour) and a clean one."""

from __future__ import annotations

import json

import pytest

from assistant import evidence
from assistant.records import DialogueState
from retrieval.lexicon import Lexicon
from retrieval.schema import Candidate, Product, SearchFilters, SignalScore


def _scraped() -> list[Product]:
    """Twenty blue things of many brands, two products of a brand called "Blue", five of a
    brand whose name is its own word."""
    groups = [  # (id prefix, how many, title, category, brand, colour)
        ("b", 20, "Blue Mug", "Kitchen / Mugs", None, "Blue"),
        ("x", 2, "Stoneware Mug", "Kitchen / Mugs", "Blue", "White"),
        ("k", 5, "Kaweco Pen", "Office / Pens", "Kaweco", "Black"),
    ]
    return [
        Product(
            id=f"{prefix}{i}",
            title=f"{title} {i}",
            category=category,
            attributes={"brand": [brand or f"Maker{i}"], "color": [color]},
        )
        for prefix, n, title, category, brand, color in groups
        for i in range(n)
    ]


def test_a_value_whose_word_mostly_means_something_else_is_ambiguous():
    lex = Lexicon.build(_scraped())
    assert evidence.ambiguous("facet:brand=Blue", lex)  # 2 of the 22 titles saying "blue"
    assert not evidence.ambiguous("facet:brand=Kaweco", lex)
    assert not evidence.ambiguous("facet:color=Blue", lex)
    assert not evidence.ambiguous("category:mugs", lex)


def test_weighing_keeps_explicit_values_hard_and_moves_ambiguous_ones_to_words():
    from assistant.understanding.catalog import CatalogView
    from retrieval.facets import FacetIndex

    products = _scraped()
    lex = Lexicon.build(products)
    view = CatalogView(FacetIndex.build(products), lex)
    state = DialogueState(
        filters=SearchFilters(facets={"brand": ["Blue"], "color": ["Black"]}),
        explicit=["facet:color=Black"],
    )
    w = evidence.weigh(state, lex, view, "weigh")
    assert w.soft == ["facet:brand=Blue"] and w.words == "Blue"
    assert w.hard.filters.facets == {"color": ["Black"]}  # the stated colour still filters
    assert evidence.weigh(state, lex, view, "filter").hard.filters == state.filters


def _cand(pid: str, score: float, cosine: float, bm25: float = 0.0, **attrs) -> Candidate:
    return Candidate(
        product=Product(id=pid, title=pid, attributes=attrs),
        score=score,
        signals={
            "dense": SignalScore(rank=1, score=cosine),
            "lexical": SignalScore(rank=1, score=bm25),
        },
    )


def test_a_soft_value_nudges_but_never_removes():
    far = _cand("a", 2 / 61, 0.8)  # first in both signals
    near = _cand("b", 2 / 62, 0.7, brand=["Blue"])  # second in both, holds the value
    low = _cand("c", 2 / 100, 0.3, brand=["Blue"])  # far down
    out = evidence.lift([far, near, low], ["facet:brand=Blue"])
    assert [c.product.id for c in out] == ["b", "a", "c"]


def test_a_filter_is_kept_only_when_its_best_are_as_close_as_the_unfiltered_best():
    good = [_cand("a", 0.03, 0.8, 5.0), _cand("b", 0.02, 0.7, 4.0)]
    assert evidence.as_good(good, [*good, _cand("z", 0.01, 0.5, 2.0)], 5)
    loose = [_cand("z", 0.03, 0.8, 5.0), *good]  # the filter removed one as close as its best
    assert not evidence.as_good(good, loose, 5)
    worse = [_cand("w", 0.03, 0.3, 1.0)]
    assert not evidence.as_good(worse, loose, 5)
    assert not evidence.as_good([], loose, 5)
    others = [_cand("n", 0.01, 0.79, 2.0), _cand("f", 0.01, 0.2, 3.0), _cand("w", 0.01, 0.8)]
    kept = evidence.close_enough(others, good)
    assert [c.product.id for c in kept] == ["n"]  # close, and sharing a word


@pytest.fixture(scope="module")
def scraped_shop(tmp_path_factory, tiny_text_model):
    from assistant.config import Settings
    from retrieval.ingest import ingest

    folder = tmp_path_factory.mktemp("scraped")
    catalog = folder / "products.jsonl"
    catalog.write_text("\n".join(json.dumps(p.model_dump(mode="json")) for p in _scraped()))
    settings = Settings(index_dir=folder / "index", text_model=tiny_text_model, device="cpu")
    ingest(catalog, settings, progress=False)
    return settings


def test_a_brand_named_like_a_colour_does_not_empty_the_chat(scraped_shop):
    from assistant.pipeline import Assistant

    def ask(mode: str):
        settings = scraped_shop.model_copy(update={"inferred_values": mode})
        return Assistant(settings, use_llm=False).respond("a", "blue mug")

    filtered, weighed = ask("filter"), ask("weigh")
    # read the same way, "blue" → brand Blue; filtering leaves that brand's two white mugs
    assert filtered.state.filters.facets == weighed.state.filters.facets == {"brand": ["Blue"]}
    assert {i.product.id for i in filtered.products} == {"x0", "x1"}
    # weighed, the blue mugs the shopper meant fill the reply, and the header claims no brand
    assert len(weighed.products) == 5
    assert all(i.product.id.startswith("b") for i in weighed.products)
    assert "brand" not in weighed.text.splitlines()[0]


def test_without_a_thing_ranks_by_what_the_facts_say_and_removes_nothing():
    def cand(pid: str, score: float, description: str) -> Candidate:
        return Candidate(
            product=Product(id=pid, title=f"Bottle {pid}", description=description), score=score
        )

    listed = [
        cand("with", 0.040, "A flip-top lid with a soft straw for toddlers."),
        cand("plain", 0.039, "A steel bottle for toddlers."),
        cand("free", 0.038, "Straw-free spout, easy to clean."),
        cand("none", 0.037, "Drink from the rim: no straw to lose."),
    ]
    out = [c.product.id for c in evidence.shun(listed, ["straw"])]
    assert out[:2] == ["free", "none"] and out[-1] == "with" and len(out) == 4
    assert evidence.shun(listed, []) == listed


def test_a_value_that_spells_its_own_negation_is_wanted_not_excluded():
    from assistant.understanding import CatalogView, CatalogWords, read_turn
    from retrieval.facets import FacetIndex

    products = [
        Product(id=f"c{i}", title=f"Deli Container {i}", attributes={"style": [s]})
        for i, s in enumerate(["Without Lid", "With Lid", "Without Lid", "With Lid"])
    ]
    lex = Lexicon.build(products)
    words, view = CatalogWords(lex), CatalogView(FacetIndex.build(products), lex)
    turn = read_turn("containers without lid", DialogueState(), words, view)
    assert turn.constraints.facets == {"style": ["Without Lid"]}
    assert not turn.constraints.exclude_facets
    turn = read_turn("containers, no blue ones and without handles", DialogueState(), words, view)
    assert "handles" in turn.avoid


def test_a_soft_chip_made_strict_filters(scraped_shop):
    from assistant.chips import chips_of
    from assistant.pipeline import Assistant
    from ui.render import chips_html

    bot = Assistant(scraped_shop, use_llm=False)
    r = bot.respond("s", "blue mug")
    (soft,) = [c for c in r.chips if c.soft]
    assert soft.key == "facet:brand=Blue" and 'data-action="strict"' in chips_html(r.chips)
    # the page drawn again later (a reload, another worker) marks the same chip
    assert [c.key for c in chips_of(bot.state("s")) if c.soft] == [soft.key]
    r = bot.make_strict("s", soft.key)
    assert {i.product.id for i in r.products} == {"x0", "x1"}
    assert not any(c.soft for c in r.chips) and "facet:brand=Blue" in r.state.explicit
    with pytest.raises(ValueError):
        bot.make_strict("s", "facet:brand=Nope")
