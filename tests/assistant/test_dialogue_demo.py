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
    assert r.intent == "search" and (f.price_max, f.price_max_strict) == (80, True)
    assert [c.lower() for c in f.exclude_facets["color"]] == ["yellow"]
    assert r.products and all("Jackets" in i.product.category for i in r.products)
    assert all(product_matches(i.product, f) for i in r.products)

    r = bot.respond(s, "in blue?")
    assert r.state.filters.facets == {"color": ["Blue"]} and r.state.filters.price_max == 80
    assert all(any(v.option("color") == "Blue" for v in i.matching_variants) for i in r.products)
    second_price = r.products[1].product.price

    r = bot.respond(s, "anything cheaper than the second one?")
    f = r.state.filters
    assert (f.price_max, f.price_max_strict) == (second_price, True)  # strictly below it
    assert all(i.product.price < second_price for i in r.products)
    assert r.state.filters.facets == {"color": ["Blue"]}  # other constraints kept
    first_two = [i.product.id for i in r.products[:2]]

    r = bot.respond(s, "compare the first two")
    assert r.intent == "compare" and [i.product.id for i in r.products] == first_two

    r = bot.respond(s, "is the first one machine washable?")
    assert r.intent == "ask_item" and r.products[0].product.id == first_two[0]

    r = bot.respond(s, "add the first one in size M to my cart")
    item = r.state.cart[-1]
    assert r.intent == "cart" and item.product_id == first_two[0] and item.options["size"] == "M"
    product = bot.parts.index.product(item.product_id)
    assert any(v.options == item.options for v in product.variants)

    r = bot.respond(s, "what's the weather in Paris?")
    assert r.intent == "out_of_scope" and not r.products
    assert r.state.filters.facets == {"color": ["Blue"]}  # nothing forgotten


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
    assert r.state.categories == ["men", "shorts"]


def test_a_backpack_shows_only_backpacks_and_under_excludes_the_bound(bot):
    r = bot.respond("bp", "a backpack")
    assert r.products and all("Backpack" in i.product.title for i in r.products)
    r = bot.respond("bp", "under $60")
    assert r.products and all(i.product.price < 60 for i in r.products)
    sixty = [p for p in bot.parts.index.all_products() if p.price == 60 and p.visible]
    assert sixty  # the demo sells products at exactly $60.00 …
    r = bot.respond("sixty", "anything under $60")
    assert all(i.product.price != 60 for i in r.products)  # … and "under $60" is not one


def test_a_plain_no_for_what_the_shop_does_not_sell(bot):
    r = bot.respond("no", "do you sell laptops?")
    assert not r.products and "doesn't sell laptops" in r.text
    r = bot.respond("no", "ok, a laptop bag then")
    assert r.products and all("Bags" in i.product.category for i in r.products)
