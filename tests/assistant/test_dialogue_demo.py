"""The issue's scripted dialogue on the demo catalog: assertions on state and products,
never on wording. Slow: indexes the catalog once per session."""

import pytest

from assistant.config import Settings
from assistant.pipeline import Assistant
from retrieval.facets import product_matches

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bot(demo_index):
    config, _ = demo_index
    return Assistant(Settings(**config.model_dump()), use_llm=False)


def test_the_shopping_dialogue(bot):
    s = "demo"
    r = bot.respond(s, "I need a warm jacket for hiking under $80, not yellow")
    f = r.state.filters
    assert (
        r.intent == "search"
        and f.price_max == 80
        and [c.lower() for c in f.exclude_colors] == ["yellow"]
    )
    assert r.products and all("Jackets" in i.product.category for i in r.products)
    assert all(product_matches(i.product, f) for i in r.products)

    r = bot.respond(s, "in blue?")
    assert r.state.filters.colors == ["blue"] and r.state.filters.price_max == 80
    assert all(any(v.color == "Blue" for v in i.matching_variants) for i in r.products)
    second_price = r.products[1].product.price

    r = bot.respond(s, "anything cheaper than the second one?")
    assert r.state.filters.price_max < second_price
    assert all(i.product.price < second_price for i in r.products)
    assert r.state.filters.colors == ["blue"]  # other constraints kept
    first_two = [i.product.id for i in r.products[:2]]

    r = bot.respond(s, "compare the first two")
    assert r.intent == "compare" and [i.product.id for i in r.products] == first_two

    r = bot.respond(s, "is the first one machine washable?")
    assert r.intent == "ask_item" and r.products[0].product.id == first_two[0]

    r = bot.respond(s, "add the first one in size M to my cart")
    item = r.state.cart[-1]
    assert r.intent == "cart" and item.product_id == first_two[0] and item.size == "M"
    product = bot.index.product(item.product_id)
    assert any(v.size == "M" and v.color == item.color for v in product.variants)

    r = bot.respond(s, "what's the weather in Paris?")
    assert r.intent == "out_of_scope" and not r.products
    assert r.state.filters.colors == ["blue"]  # nothing forgotten


def test_constraints_hold_on_every_turn(bot):
    turns = [
        "women's hoodies",
        "not gray",
        "under $60",
        "in size M",
        "any colour is fine",
        "now shorts",
        "for men",
        "cheaper",
    ]
    for text in turns:
        r = bot.respond("hold", text)
        assert all(product_matches(i.product, r.state.filters) for i in r.products), text
    assert r.state.departments == ["men"] and r.state.kinds == ["shorts"]
