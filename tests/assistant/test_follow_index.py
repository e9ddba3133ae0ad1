"""A running assistant follows the index: after an ingest it serves the new generation
whole, on the three catalog shapes; turns and switches never overlap."""

from __future__ import annotations

import threading

import pytest

from assistant.config import Settings
from assistant.generation import GenerationGate
from assistant.pipeline import Assistant
from retrieval.index import ProductIndex
from retrieval.ingest import ingest
from retrieval.loaders import load_catalog

from ..retrieval.test_crash_safety import SHOPS


@pytest.mark.slow
@pytest.mark.parametrize("shop", sorted(SHOPS))
def test_a_running_assistant_follows_a_new_generation(shop, tmp_path):
    a, b = SHOPS[shop](tmp_path)
    settings = Settings(index_dir=tmp_path / "index", device="cpu", event_log_enabled=False)
    ingest(a, settings, progress=False)
    bot = Assistant(settings, use_llm=False)
    first = bot.parts.index.generation
    old_titles = {p.id: p.title for p in load_catalog(a)[0]}
    new = {p.id: p.title for p in load_catalog(b)[0]}
    renamed = next(t for pid, t in new.items() if old_titles.get(pid) != t)
    ingest(b, settings, progress=False)  # reordered or changed, one product fewer
    bot.live._checked -= 5  # the once-a-second look at CURRENT is due
    reply = bot.respond("s", renamed)
    assert bot.parts.index.generation != first
    assert bot.parts.index.generation == ProductIndex(settings).live_generation()
    assert reply.products, reply.text
    # every product shown is the new generation's record for its id: no row of the old one
    assert all(i.product.title == new[i.product.id] for i in reply.products)
    assert renamed in [i.product.title for i in reply.products]
    gone = set(old_titles) - set(new)
    assert not gone & {i.product.id for i in reply.products}


@pytest.mark.slow
def test_card_details_follow_two_ingests_without_a_turn_between(tmp_path):
    """Two ingests delete the generation the server had pinned: opening a card must look at
    which generation is live, not wait for the next chat turn to."""
    a, b = SHOPS["grocery"](tmp_path)
    settings = Settings(index_dir=tmp_path / "index", device="cpu", event_log_enabled=False)
    ingest(a, settings, progress=False)
    bot = Assistant(settings, use_llm=False)
    product = next(iter(load_catalog(b)[0]))
    ingest(b, settings, progress=False)
    ingest(a, settings, progress=False)  # the first generation is cleaned up by now
    bot.live._checked -= 5  # the once-a-second look at CURRENT is due
    view = bot.actions.open_product("s", product.id)
    assert view.product.id == product.id
    assert bot.parts.index.generation == ProductIndex(settings).live_generation()


def test_a_switch_waits_for_the_turns_under_way():
    gate = GenerationGate()
    in_turn, release, switched = threading.Event(), threading.Event(), threading.Event()

    def turn():
        with gate.turn():
            in_turn.set()
            release.wait(10)

    def switch():
        with gate.switch():
            switched.set()

    t = threading.Thread(target=turn)
    t.start()
    in_turn.wait(10)
    s = threading.Thread(target=switch)
    s.start()
    s.join(0.2)
    assert not switched.is_set()  # the turn under way still reads the old generation
    release.set()
    s.join(10)
    t.join(10)
    assert switched.is_set()
