"""The simulated shopper: generated from the catalog, deterministic for a seed, never
satisfied by a product that breaks a need, successful against an oracle, and clearly
harder on a broken assistant than on the real one (on the three catalog shapes)."""

from __future__ import annotations

import random

import pytest

from assistant.records import DialogueState, Reply, TurnInterpretation
from evals.suites.simulate import make_goal, meets, pick_goals, simulate
from ranking.rank import RankedItem


def _assistant(settings, **over):
    from assistant.pipeline import Assistant

    return Assistant(settings.with_overrides(event_log_enabled=False, **over), use_llm=False)


class Showing:
    """A stand-in assistant that shows whatever `pick(message, turn)` returns."""

    def __init__(self, pick):
        self.pick, self.turns = pick, {}

    def respond(self, session, message):
        n = self.turns[session] = self.turns.get(session, 0) + 1
        products = self.pick(message, n)
        return Reply(
            text="Here you are.",
            intent="search",
            products=[RankedItem(product=p, score=1.0) for p in products],
            state=DialogueState(turns=n),
            interpretation=TurnInterpretation(intent="search"),
        )


def test_goals_come_from_the_catalog_and_the_target_meets_them(tiny_shop):
    bot = _assistant(tiny_shop[0])
    products = bot.parts.index.all_products()
    keys = [f.key for f in bot.parts.lexicon.facets.values()]
    goals = pick_goals(products, bot.parts.lexicon, 12, seed=3)
    assert len(goals) == 12
    assert len({g.needs[0].criterion for g in goals}) == 3  # every kind of the shop
    by_id = {p.id: p for p in products}
    for g in goals:
        assert g.needs[0].slot == "kind"
        assert meets(g.needs, by_id[g.target], keys)
        assert all("=" in n.criterion or "<" in n.criterion for n in g.needs)


def test_the_same_seed_gives_the_same_conversations(tiny_shop):
    bot = _assistant(tiny_shop[0])
    products, lexicon = bot.parts.index.all_products(), bot.parts.lexicon
    a = simulate(bot, products, lexicon, targets=6, runs=2, seed=7)
    b = simulate(bot, products, lexicon, targets=6, runs=2, seed=7)
    said = lambda r: [[t.said for t in e.turns] for e in r.episodes]  # noqa: E731
    assert said(a) == said(b)
    assert [e.success_turn for e in a.episodes] == [e.success_turn for e in b.episodes]
    c = simulate(bot, products, lexicon, targets=6, runs=2, seed=8)
    assert said(c) != said(a)


def test_an_oracle_that_shows_the_target_succeeds_on_the_first_turn(tiny_shop):
    bot = _assistant(tiny_shop[0])
    products = bot.parts.index.all_products()
    by_id = {p.id: p for p in products}
    # simulate() draws the same goals for the same seed, and runs them in this order
    targets = iter(g.target for g in pick_goals(products, bot.parts.lexicon, 8, seed=0))
    state = {}

    def oracle(message, n):
        if n == 1:
            state["target"] = next(targets)
        return [by_id[state["target"]]]

    report = simulate(Showing(oracle), products, bot.parts.lexicon, targets=8, runs=1, seed=0)
    assert len(report.episodes) == 8
    assert all(e.success_turn == 1 for e in report.episodes)
    assert report.metrics["success@3"] == 1.0 and report.metrics["turns to success"] == 1.0


def test_a_product_that_breaks_a_need_is_never_accepted(tiny_shop):
    bot = _assistant(tiny_shop[0])
    products = bot.parts.index.all_products()
    keys = [f.key for f in bot.parts.lexicon.facets.values()]
    goals = {g.target: g for g in pick_goals(products, bot.parts.lexicon, 12, seed=1)}
    order = iter(list(goals) * 3)
    state = {}

    def liar(message, n):  # shows only products that break at least one of the needs
        if n == 1:
            state["goal"] = goals[next(order)]
        return [p for p in products if not meets(state["goal"].needs, p, keys)][:5]

    report = simulate(Showing(liar), products, bot.parts.lexicon, targets=12, runs=1, seed=1)
    assert report.metrics["success"] == 0.0
    assert all(e.success_turn is None and len(e.turns) == 5 for e in report.episodes)


def test_the_shopper_answers_a_question_truthfully_and_counts_a_repeated_one(tiny_shop):
    from evals.suites.simulate import Shopper

    bot = _assistant(tiny_shop[0])
    products = bot.parts.index.all_products()
    target = next(p for p in products if p.id == "K1")  # a red Brava kettle
    goal = make_goal(target, bot.parts.lexicon, random.Random(0), extra=0)
    shopper = Shopper(goal, bot.parts.lexicon, random.Random(0))
    shopper.opening()
    answer = shopper.answer("brand", target)
    assert "Brava" in answer and "brand" in shopper.stated_slots()


@pytest.mark.slow
@pytest.mark.parametrize("fixture", ["demo_index", "vendure_index", "grocery_index"])
def test_a_broken_assistant_scores_clearly_worse(fixture, request):
    """Filters off (the search ignores every constraint) and the ranking shuffled: the same
    shoppers see products that break what they said, and find what they want less."""
    from assistant.config import Settings
    from retrieval.schema import SearchFilters

    config = request.getfixturevalue(fixture)[0]
    settings = Settings(index_dir=config.index_dir, device="cpu")
    good = _assistant(settings)
    products, lexicon = good.parts.index.all_products(), good.parts.lexicon
    fine = simulate(good, products, lexicon, targets=20, runs=1, seed=0)

    broken = _assistant(settings)
    search = broken.parts.searcher.search
    rng = random.Random(0)

    def no_filters(request):
        result = search(request.model_copy(update={"filters": SearchFilters(), "text": ""}))
        rng.shuffle(result.candidates)
        return result

    broken.parts.searcher.search = no_filters
    bad = simulate(broken, products, lexicon, targets=20, runs=1, seed=0)
    assert bad.metrics["violations per turn"] > fine.metrics["violations per turn"] + 0.5
    assert bad.metrics["success@3"] < fine.metrics["success@3"] - 0.2


def test_kind_words_are_said_in_the_plural_as_shoppers_do():
    from evals.suites.simulate import _plural

    assert [_plural(w) for w in ("berry", "tray", "watch", "kettle", "oils")] == [
        "berries",
        "trays",
        "watches",
        "kettles",
        "oils",
    ]


def test_a_paraphrase_is_kept_only_when_every_value_survives(tiny_shop):
    from evals.suites.simulate import Shopper

    bot = _assistant(tiny_shop[0])
    target = next(p for p in bot.parts.index.all_products() if p.id == "K1")
    goal = make_goal(target, bot.parts.lexicon, random.Random(0), extra=0)

    def keeps(text):
        return f"hello there, {text} if you have it"

    def drops(text):
        return "something nice please"

    def fails(text):
        raise TimeoutError("the LLM took too long")

    for rewrite, kept in ((keeps, True), (drops, False), (fails, False)):
        shopper = Shopper(goal, bot.parts.lexicon, random.Random(0), rewrite)
        said = shopper.opening()
        assert said.startswith("hello there") is kept, said
        assert "kettle" in said.casefold()
