"""The cart's question answered in the next turn: "Which color would you like for the X?"
— "Green" puts X in the cart in green, instead of becoming a filter on the search."""

import pytest

from assistant.config import Settings
from assistant.pipeline import Assistant
from assistant.records import CartQuestion, ConstraintSet, DialogueState, TurnInterpretation
from assistant.understanding.cart_answer import read_cart_answer
from retrieval.filter_syntax import parse_filters

QUESTION = CartQuestion(
    position=2,
    product_id="P2",
    key="color",
    options={"color": ["Green", "Orange"], "size": ["S", "M"], "storage": ["32GB", "128GB"]},
)


def _turn(**constraints) -> TurnInterpretation:
    return TurnInterpretation(
        intent="refine", constraints=ConstraintSet(**constraints), certain=True
    )


def test_a_value_it_comes_in_answers_the_question():
    state = DialogueState(cart_question=QUESTION)
    turn = read_cart_answer(_turn(facets={"color": ["green"], "size": ["M"]}), state)
    assert turn.intent == "cart" and turn.references == [2]
    assert turn.cart.options == {"color": "Green", "size": "M"}


def test_a_quantity_option_answers_it_too():
    (amount,) = parse_filters(["storage=128GB"], ["storage"]).quantities
    turn = read_cart_answer(_turn(quantities=[amount]), DialogueState(cart_question=QUESTION))
    assert turn.cart.options == {"storage": "128GB"}


@pytest.mark.parametrize(
    "constraints",
    [
        {"facets": {"color": ["purple"]}},  # a colour it does not come in: a new search
        {"facets": {"color": ["green"]}, "categories": ["jackets"]},  # another kind
        {"facets": {"color": ["green"]}, "price_max": 50.0},
        {"facets": {"brand": ["Acme"]}},  # not one of its options
        {},
    ],
)
def test_anything_more_is_a_turn_of_its_own(constraints):
    assert read_cart_answer(_turn(**constraints), DialogueState(cart_question=QUESTION)) is None


def test_the_option_and_the_product_may_be_named_in_the_answer():
    """ "RAM 16GB", "the monitor in 27 inch": the option's name and the product's own kind
    are no new search; another kind is."""
    q = QUESTION.model_copy(update={"names": ["monitor", "ram", "size", "color"]})
    state = DialogueState(cart_question=q)
    turn = read_cart_answer(_turn(facets={"color": ["green"]}, categories=["monitors"]), state)
    assert turn is not None and turn.cart.options == {"color": "Green"}
    unknown = _turn(facets={"size": ["M"]}).model_copy(
        update={"certain": False, "not_understood": ["RAM"]}
    )
    assert read_cart_answer(unknown, state).cart.options == {"size": "M"}
    other = unknown.model_copy(update={"not_understood": ["gift"]})
    assert read_cart_answer(other, state) is None
    assert (
        read_cart_answer(_turn(facets={"color": ["green"]}, categories=["tablets"]), state) is None
    )


def test_no_question_no_answer():
    assert read_cart_answer(_turn(facets={"color": ["green"]}), DialogueState()) is None


def _bot(index):
    config, _ = index
    return Assistant(Settings(**config.model_dump(), event_log_enabled=False), use_llm=False)


def _first_with_choices(bot, session, query):
    r = bot.respond(session, query)
    assert r.products, query
    r = bot.respond(session, "add the first one to my cart")
    return r


@pytest.mark.slow
def test_luma_colour_then_size(demo_index):
    bot = _bot(demo_index)
    r = _first_with_choices(bot, "l", "a hoodie")
    q = r.state.cart_question
    assert q is not None and not r.state.cart, r.text
    product = q.product_id
    first = q.options[q.key][-1]
    r = bot.respond("l", first)
    if r.state.cart_question is not None:  # the next option it varies in
        nxt = r.state.cart_question
        r = bot.respond("l", nxt.options[nxt.key][0])
    assert [line.product_id for line in r.state.cart] == [product], r.text
    assert first in r.state.cart[0].options.values()


@pytest.mark.slow
def test_vendure_sizes_are_quantities(vendure_index):
    bot = _bot(vendure_index)
    r = _first_with_choices(bot, "v", "a laptop")
    assert r.state.cart_question is not None, r.text
    r = bot.respond("v", "15 inch")
    assert r.state.cart_question is not None and r.state.cart_question.chosen
    r = bot.respond("v", "RAM 16GB please")  # "RAM" is a category of this shop, too
    assert r.state.cart and r.state.cart[0].options == {"screen size": "15 inch", "RAM": "16GB"}
    r = _first_with_choices(bot, "h", "a hard drive")
    r = bot.respond("h", "HDD 4TB")  # the option's name, a word no reader knows
    assert [line.options for line in r.state.cart] == [{"HDD": "4TB"}], r.text
    # a question passed over is forgotten: the next value is a search again
    r = _first_with_choices(bot, "w", "a laptop")
    r = bot.respond("w", "show me tablets instead")
    assert r.intent == "search" and r.state.cart_question is None and not r.state.cart


@pytest.mark.slow
def test_grocery_adds_at_once_and_a_value_stays_a_search(grocery_index):
    bot = _bot(grocery_index)
    r = _first_with_choices(bot, "g", "red wine")
    assert r.state.cart and r.state.cart_question is None  # nothing to choose
    r = bot.respond("g", "from Spain")
    assert r.intent in ("refine", "search") and len(r.state.cart) == 1
    assert r.state.filters.facets
