"""The explanation eval: it scores the real assistant's reasons, and it fails reasons that
state a false fact, ignore the need, or repeat each other."""

from __future__ import annotations

from types import SimpleNamespace

from assistant.explain import explain
from assistant.records import DialogueState, Reply, TurnInterpretation
from evals.suites.explain import evaluate, suite_result
from ranking.rank import RankedItem
from retrieval.lexicon import Lexicon
from retrieval.loaders import load_catalog
from retrieval.schema import SearchFilters


def test_the_real_assistants_reasons_meet_the_targets(tiny_shop):
    from assistant.pipeline import Assistant

    settings, _ = tiny_shop
    bot = Assistant(settings.with_overrides(event_log_enabled=False), use_llm=False)
    convs = [("q1", ["a red kettle"]), ("d1", ["mugs by Holm", "in blue"]), ("q2", ["aprons"])]
    report = evaluate(bot, convs)
    assert report.replies == 4 and report.reasons >= 8
    assert report.unsupported == 0 and report.repeated_replies == 0
    assert report.need_cases and report.need_named / report.need_cases >= 0.9
    assert len(report.first_token_ms) == report.replies
    result = suite_result(report, "rules", "tiny", "the catalog realiser", 1.0)
    assert result.headline["reasons with an unsupported fact"] == 0
    assert result.headline["reasons naming a stated need"] >= 0.9


class Scripted:
    """A stand-in assistant whose replies carry the reasons a test gives."""

    def __init__(self, catalog, reasons):
        self.products, _ = load_catalog(catalog)
        self.parts = SimpleNamespace(lexicon=Lexicon.build(self.products))
        self.reasons = reasons

    def reset(self, session):
        pass

    def respond(self, session, message, on_token=None):
        f = SearchFilters(facets={"color": ["Red"]})
        state = DialogueState(need="kettle", categories=["kettles"], filters=f)
        items = [
            RankedItem(product=p, score=1.0)
            for p in self.products
            if p.id in ("K1", "K4")  # the red kettles
        ]
        lines = [
            f"[{i}] {it.product.title}: ${it.product.price:.2f}. {r}."
            for i, (it, r) in enumerate(zip(items, self.reasons, strict=True), 1)
        ]
        if on_token:
            on_token("Here are 2 kettles in red:\n")
            on_token("\n".join(lines))
        return Reply(
            text="\n".join(["Here are 2 kettles in red:", *lines]),
            intent="search",
            products=items,
            reasons=self.reasons,
            explanations=explain(items, state, self.parts.lexicon),
            state=state,
            interpretation=TurnInterpretation(intent="search"),
        )


def test_false_facts_ignored_needs_and_repeats_are_scored(tiny_shop):
    _, catalog = tiny_shop
    good = evaluate(Scripted(catalog, ["In Red, by Brava", "In Red, by Holm"]), [("q", ["x"])])
    assert good.unsupported == 0 and good.need_named == good.need_cases == 2
    assert good.repeated_replies == 0
    bad = evaluate(
        Scripted(catalog, ["Only $1 today, in green", "Only $1 today, in green"]), [("q", ["x"])]
    )
    assert bad.unsupported == 2  # a price and a colour the catalog does not hold
    assert bad.need_named == 0  # neither says the product is red
    assert bad.repeated_replies == 1
    assert bad.worst and "names none of" in bad.worst[0].note
