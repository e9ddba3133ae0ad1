"""A conversation and its cart survive a restart, and a second worker on the same store
continues it, on the three catalog shapes."""

from __future__ import annotations

import pytest

from assistant.config import Settings
from assistant.pipeline import Assistant

pytestmark = pytest.mark.slow
INDEXES = {"luma": "demo_index", "vendure": "vendure_index", "grocery": "grocery_index"}


def _add_first(bot: Assistant, session: str):
    """The first shown product into the cart, in its first variant (as the page adds it)."""
    shown = bot.state(session).shown[0].product_id
    variant = bot.parts.index.product(shown).purchasable_variants()[0].label()
    _, cart = bot.actions.add_variant(session, shown, variant)
    return bot.state(session)


@pytest.mark.parametrize("shop", sorted(INDEXES))
def test_a_restart_and_a_second_worker_continue_the_conversation(shop, request, tmp_path):
    config = request.getfixturevalue(INDEXES[shop])[0]
    store = f"sqlite:///{tmp_path / 'conversations.sqlite'}"
    settings = Settings(
        **config.model_dump(), conversation_store_url=store, event_log_enabled=False
    )
    first = Assistant(settings, use_llm=False)
    opened = first.respond("c1", first.example_request())
    assert opened.products, opened.text
    added = _add_first(first, "c1")
    assert len(added.cart) == 1
    first.save_chat("c1", [{"role": "user", "content": "hi"}])
    limit = opened.state.filters.price_max
    del first  # the process ends; nothing of it is kept but the store

    second = Assistant(settings, use_llm=False)  # a restart, or another worker
    state = second.state("c1")
    assert state.filters.price_max == limit and len(state.cart) == 1
    assert [s.product_id for s in state.shown] == [i.product.id for i in opened.products]
    assert second.chat("c1") == [{"role": "user", "content": "hi"}]
    cheaper = second.respond("c1", "something cheaper than the first one")
    assert cheaper.state.cart == added.cart  # the cart is intact
    top = opened.products[0]
    assert all(i.product.id != top.product.id for i in cheaper.products)
    third = Assistant(settings, use_llm=False)  # turns alternate between workers
    again = _add_first(third, "c1")
    assert len(again.cart) == 2 and len(second.state("c1").cart) == 2
    third.reset("c1")
    assert second.state("c1").cart == [] and second.chat("c1") == []
