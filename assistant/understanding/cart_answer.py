"""The answer to "Which <option> would you like for the <product>?": a turn that names only
values of that product's options ("Green", "in green please", "size M", "Green, M", "RAM
16GB") adds it to the cart in them, instead of being read as a new filter on the search.
Anything more (another kind, a price, an exclusion) is a turn of its own."""

from __future__ import annotations

from base.language.text import terms
from retrieval.facets import quantity_ok, value_matches, value_quantities
from retrieval.schema import normalise

from ..records import CartQuestion, CartRequest, DialogueState, TurnInterpretation


def read_cart_answer(turn: TurnInterpretation, state: DialogueState) -> TurnInterpretation | None:
    q = state.cart_question
    if q is None or turn.intent not in ("search", "refine", "clarify_answer"):
        return None
    c = turn.constraints
    named = set(q.names)
    unknown = {t for w in turn.not_understood for t in terms(w)}
    if not (turn.certain or (unknown and unknown <= named)):
        return None  # words neither reader knew, other than the option's own name ("HDD")
    if (
        any(not set(terms(seg)) <= named for seg in c.categories)
        or c.exclude_categories
        or c.exclude_facets
        or c.price_min is not None
        or c.price_max is not None
        or turn.remove
        or turn.relative_price
        or not (c.facets or c.quantities)
    ):
        return None
    chosen: dict[str, str] = {}
    for amount in c.quantities:  # "15 inch", "the 128GB": an option that is a quantity
        hits = [
            (k, v)
            for k, values in q.options.items()
            for v in values
            if quantity_ok(amount, value_quantities(k, v))
        ]
        if len(hits) != 1:
            return None  # none, or several ("at least 16GB"): not an answer to pick one by
        chosen[hits[0][0]] = hits[0][1]
    for key, values in c.facets.items():
        option = _option_key(q, key)
        if option is None or len(values) != 1:
            return None  # a value of something the product is not chosen by
        offered = [v for v in q.options[option] if value_matches(option, v, values[0])]
        if not offered:
            return None  # a value the product does not come in: a search for another one
        chosen[option] = offered[0]
    return TurnInterpretation(
        intent="cart",
        references=[q.position],
        cart=CartRequest(reference=q.position, options={**q.chosen, **chosen}),
        source="rules",
        certain=True,
    )


def _option_key(q: CartQuestion, key: str) -> str | None:
    want = normalise(key)
    return next((k for k in q.options if normalise(k) == want), None)
