"""The chat's first turn against the search box, per query (evals/retrieval.py)."""

from evals.retrieval import chat_against_search


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
