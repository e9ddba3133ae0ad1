"""How turns change the dialogue state (on the Luma catalog's own paths)."""

from assistant.records import ConstraintSet, DialogueState, TurnInterpretation
from assistant.state import apply_turn


def turn(intent="refine", **kw):
    cons = {k: kw.pop(k) for k in list(kw) if k in ConstraintSet.model_fields}
    return TurnInterpretation(intent=intent, constraints=ConstraintSet(**cons), **kw)


def test_constraints_accumulate_and_a_restated_slot_replaces(luma):
    _, view = luma
    s = apply_turn(
        DialogueState(),
        turn(
            "search",
            need="warm jacket",
            categories=["jackets"],
            price_max=80,
            exclude_facets={"color": ["Yellow"]},
        ),
        view,
    )
    s = apply_turn(s, turn(facets={"color": ["blue"]}), view)
    assert s.filters.categories == ["jackets"] and s.filters.price_max == 80
    assert s.filters.facets == {"color": ["blue"]}
    assert s.filters.exclude_facets == {"color": ["Yellow"]}
    s = apply_turn(s, turn(price_max=50, price_max_strict=True), view)  # "actually under $50"
    assert (s.filters.price_max, s.filters.price_max_strict) == (50, True)
    assert s.need == "warm jacket"
    s = apply_turn(s, turn(exclude_facets={"color": ["red"]}), view)  # exclusions accumulate
    assert s.filters.exclude_facets == {"color": ["Yellow", "red"]}
    s = apply_turn(s, turn(facets={"color": ["red"]}), view)  # wanting it lifts its exclusion
    assert s.filters.facets == {"color": ["red"]}
    assert s.filters.exclude_facets == {"color": ["Yellow"]}


def test_removals_drop_slots_by_the_catalogs_facet_names(luma, shown_state):
    _, view = luma
    s = apply_turn(shown_state, turn(facets={"color": ["blue"], "material": ["Wool"]}), view)
    s = apply_turn(s, turn(remove=["color"]), view)
    assert s.filters.facets == {"material": ["Wool"]}
    s = apply_turn(s, turn(remove=["material", "price"]), view)
    assert not s.filters.facets and s.filters.price_max is None
    assert s.filters.categories == ["jackets"]
    s = apply_turn(s, turn(remove=["all"]), view)
    assert s.filters.is_empty() and not s.categories and not s.need


def test_top_categories_and_kinds_compose_into_the_catalogs_paths(luma):
    _, view = luma
    s = apply_turn(DialogueState(), turn("search", categories=["jackets"]), view)
    s = apply_turn(s, turn("refine", categories=["women"]), view)
    assert s.filters.categories == ["women/tops/jackets"]
    s = apply_turn(s, turn("refine", categories=["men"]), view)  # replaces the top category
    assert s.filters.categories == ["men/tops/jackets"]


def test_a_new_topic_resets_and_keeps_a_top_category_only_where_it_combines(luma):
    _, view = luma
    s = apply_turn(
        DialogueState(),
        turn("search", categories=["women", "jackets"], facets={"color": ["red"]}),
        view,
    )
    s = apply_turn(s, turn("search", categories=["hoodies & sweatshirts"], new_topic=True), view)
    assert s.filters.categories == ["women/tops/hoodies & sweatshirts"] and not s.filters.facets
    s = apply_turn(s, turn("search", categories=["bags"], new_topic=True), view)
    assert s.filters.categories == ["bags"] and s.categories == ["bags"]  # no women's bags


def test_relative_prices_are_strict_bounds_on_the_items_shown(luma, shown_state):
    _, view = luma
    s = apply_turn(shown_state, turn(references=[2], relative_price="cheaper"), view)
    assert (s.filters.price_max, s.filters.price_max_strict, s.focus) == (52, True, [2])
    s = apply_turn(shown_state, turn(relative_price="cheaper"), view)
    assert s.filters.price_max == 40  # cheaper than everything shown
    s = apply_turn(shown_state, turn(references=[3], relative_price="pricier"), view)
    assert (s.filters.price_min, s.filters.price_min_strict, s.filters.price_max) == (75, True, 80)
    s = apply_turn(shown_state, turn(references=[5], relative_price="pricier"), view)
    assert (s.filters.price_min, s.filters.price_max) == (90, None)  # a cap below is dropped


def test_quantities_of_the_same_kind_replace_each_other(vendure):
    from retrieval.schema import QuantityFilter, Range

    _, view = vendure
    ram = QuantityFilter(dimension="data", keys=["RAM"], range=Range(min=8), label="at least 8 GB")
    s = apply_turn(DialogueState(), turn("search", categories=["laptop"], quantities=[ram]), view)
    more = ram.model_copy(update={"range": Range(min=16), "label": "at least 16 GB"})
    s = apply_turn(s, turn(quantities=[more]), view)
    assert [q.range.min for q in s.filters.quantities] == [16]


def test_like_the_first_but_in_blue(luma, shown_state):
    _, view = luma
    s = apply_turn(shown_state, turn(references=[1], facets={"color": ["blue"]}), view)
    assert s.need == "Item 1" and s.filters.facets == {"color": ["blue"]}


def test_item_turns_do_not_change_constraints(luma, shown_state):
    _, view = luma
    for intent in ("compare", "ask_item", "cart", "smalltalk", "out_of_scope"):
        s = apply_turn(shown_state, turn(intent, references=[1, 2]), view)
        assert s.filters == shown_state.filters
