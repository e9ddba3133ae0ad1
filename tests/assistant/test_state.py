"""How turns change the dialogue state."""

from assistant.records import ConstraintSet, DialogueState, TurnInterpretation
from assistant.state import apply_turn


def turn(intent="refine", **kw):
    cons = {k: kw.pop(k) for k in list(kw) if k in ConstraintSet.model_fields}
    return TurnInterpretation(intent=intent, constraints=ConstraintSet(**cons), **kw)


def test_constraints_accumulate_and_a_restated_slot_replaces(vocab):
    s = apply_turn(
        DialogueState(),
        turn(
            "search",
            need="warm jacket",
            categories=["jackets"],
            price_max=80,
            exclude_colors=["Yellow"],
        ),
        vocab,
    )
    s = apply_turn(s, turn(colors=["blue"]), vocab)
    assert s.filters.categories == ["jackets"] and s.filters.price_max == 80
    assert s.filters.colors == ["blue"] and s.filters.exclude_colors == ["Yellow"]
    s = apply_turn(s, turn(price_max=50), vocab)  # "actually under $50"
    assert s.filters.price_max == 50 and s.need == "warm jacket"
    s = apply_turn(s, turn(exclude_colors=["red"]), vocab)  # exclusions accumulate
    assert s.filters.exclude_colors == ["Yellow", "red"]
    s = apply_turn(s, turn(colors=["red"]), vocab)  # wanting it lifts its exclusion
    assert s.filters.colors == ["red"] and s.filters.exclude_colors == ["Yellow"]


def test_removals_drop_slots(vocab, shown_state):
    s = apply_turn(shown_state, turn(colors=["blue"]), vocab)
    s = apply_turn(s, turn(remove=["color"]), vocab)
    assert not s.filters.colors
    s = apply_turn(s, turn(remove=["price"]), vocab)
    assert s.filters.price_max is None and s.filters.categories == ["jackets"]
    s = apply_turn(s, turn(remove=["all"]), vocab)
    assert s.filters.is_empty() and not s.kinds and not s.need


def test_department_and_kind_compose_into_the_catalogs_paths(vocab):
    s = apply_turn(DialogueState(), turn("search", categories=["jackets"]), vocab)
    s = apply_turn(s, turn("refine", categories=["women"]), vocab)
    assert s.filters.categories == ["women/tops/jackets"]
    s = apply_turn(s, turn("refine", categories=["men"]), vocab)  # replaces the department
    assert s.filters.categories == ["men/tops/jackets"]


def test_a_new_topic_resets_and_keeps_a_department_only_where_it_exists(vocab):
    s = apply_turn(
        DialogueState(), turn("search", categories=["women", "jackets"], colors=["red"]), vocab
    )
    s = apply_turn(s, turn("search", categories=["hoodies & sweatshirts"], new_topic=True), vocab)
    assert s.filters.categories == ["women/tops/hoodies & sweatshirts"] and not s.filters.colors
    s = apply_turn(s, turn("search", categories=["bags"], new_topic=True), vocab)
    assert s.filters.categories == ["bags"] and not s.departments  # no women's bags here


def test_relative_prices_resolve_against_the_items_shown(vocab, shown_state):
    s = apply_turn(shown_state, turn(references=[2], relative_price="cheaper"), vocab)
    assert s.filters.price_max == 51.99 and s.focus == [2]
    s = apply_turn(shown_state, turn(relative_price="cheaper"), vocab)
    assert s.filters.price_max == 39.99  # cheaper than everything shown
    s = apply_turn(shown_state, turn(references=[3], relative_price="pricier"), vocab)
    assert (s.filters.price_min, s.filters.price_max) == (75.01, 80)  # "under $80" still holds
    s = apply_turn(shown_state, turn(references=[5], relative_price="pricier"), vocab)
    assert (s.filters.price_min, s.filters.price_max) == (90.01, None)  # a cap below is dropped


def test_like_the_first_but_in_blue(vocab, shown_state):
    s = apply_turn(shown_state, turn(references=[1], colors=["blue"]), vocab)
    assert s.need == "Item 1" and s.filters.colors == ["blue"]


def test_item_turns_do_not_change_constraints(vocab, shown_state):
    for intent in ("compare", "ask_item", "cart", "smalltalk", "out_of_scope"):
        s = apply_turn(shown_state, turn(intent, references=[1, 2]), vocab)
        assert s.filters == shown_state.filters
