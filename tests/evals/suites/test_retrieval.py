"""The chat's first turn against the search box, per query (evals/suites/retrieval.py)."""

from evals.suites.retrieval import chat_against_search


def test_much_worse_and_starved_queries_are_counted_with_an_interval():
    chat = {"a": 0.1, "b": 0.5, "c": 0.0, "d": 0.6}
    search = {"a": 0.5, "b": 0.5, "c": 0.4, "d": 0.5}
    shown = {"a": 5, "b": 5, "c": 1, "d": 5}
    out = chat_against_search(
        chat,
        search,
        shown,
        search_relevant={"a": 3, "b": 2, "c": 3, "d": 2},
        chat_relevant={"a": 1, "b": 2, "c": 0, "d": 3},
    )
    assert out["much_worse"] == 2  # a and c: 0.4 lower
    assert out["starved"] == 1  # c: one product shown, search's top held three relevant
    assert out["difference"] == round((-0.4 + 0 - 0.4 + 0.1) / 4, 4)
    assert out["difference_low"] <= out["difference"] <= out["difference_high"]
    assert out["queries"] == 4


def test_with_an_llm_the_eval_counts_what_its_readings_changed(tiny_shop, tmp_path):
    import json

    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    from assistant.pipeline import Assistant
    from evals.suites.retrieval import evaluate

    settings, _ = tiny_shop
    settings = settings.model_copy(  # the shared shop's own stores stay untouched
        update={
            "conversation_store_url": f"sqlite:///{tmp_path / 'c.sqlite'}",
            "event_log_url": f"sqlite:///{tmp_path / 'events.sqlite'}",
        }
    )
    judged = tmp_path / "j.jsonl"
    judged.write_text(
        "\n".join(
            json.dumps(r)
            for r in [
                {"query": "red kettle", "product_id": "K1", "grade": 3},
                {"query": "blue mug", "product_id": "M1", "grade": 3},
            ]
        )
    )
    bot = Assistant(settings, use_llm=False)
    # an LLM, asked on every turn, that invents a kind the shopper never named: the reader's
    # checks drop it, so it read both turns and changed the products of neither
    bot.parts.interpreter.llm = FakeListChatModel(
        responses=['{"intent": "search", "need": "apron", "categories": ["aprons"]}']
    )
    bot.parts.interpreter.always = True
    report = evaluate(
        bot.parts.index, "file", assistant=bot, judged=judged, ranker=bot.parts.ranker
    )
    r = report.llm_reading
    assert (r["read"], r["changed"], r["helped"], r["hurt"]) == (2, 0, 0, 0)
    assert r["turn_p95_ms"] >= r["turn_p50_ms"] > 0
    assert "chat (5 shown, rules only)" in report.rows and bot.parts.interpreter.llm is not None
