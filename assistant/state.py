"""How a turn changes the dialogue state: constraints accumulate across turns, a slot
stated again replaces the old value, "any colour is fine" drops it, a new kind of product
starts a new topic, and references resolve against the items shown."""

from __future__ import annotations

from base.language.text import normalise
from retrieval.schema import SearchFilters

from .records import ConstraintSet, DialogueState, TurnInterpretation
from .understanding.catalog import CatalogView


def apply_turn(state: DialogueState, turn: TurnInterpretation, view: CatalogView) -> DialogueState:
    new = state.model_copy(deep=True)
    new.turns += 1
    new.cart_question = None  # answered now or passed over; the cart asks again if need be
    if turn.intent in ("smalltalk", "out_of_scope"):
        return new
    if turn.references:
        new.focus = [r for r in turn.references if 1 <= r <= len(state.shown)]
    if turn.intent in ("compare", "ask_item", "cart"):
        return new

    c = turn.constraints
    f = new.filters.model_dump()
    cats = list(new.categories)
    if turn.new_topic or "all" in turn.remove:
        # a new kind keeps only the top-level categories it still combines with
        cats = [
            s
            for s in cats
            if turn.new_topic
            and view.is_top(s)
            and any(view.co_occur([s, k]) for k in c.categories)
        ]
        f, new.need, new.focus, new.avoid = SearchFilters().model_dump(), "", [], []
    cats = _drop(f, cats, turn.remove)
    _take_stated(f, c)
    if c.categories:  # top-level categories and kinds each replace their own
        said_top = [s for s in c.categories if view.is_top(s)]
        said_kind = [s for s in c.categories if not view.is_top(s)]
        top = said_top or [s for s in cats if view.is_top(s)]
        kind = said_kind or [s for s in cats if not view.is_top(s)]
        cats = [*top, *kind]
    new.categories = list(dict.fromkeys(cats))
    f["categories"] = view.compose(new.categories)

    # relative prices and "like the first but …" resolve against what was shown
    anchor = [state.shown[r - 1] for r in turn.references if 1 <= r <= len(state.shown)]
    _relative_price(f, turn.relative_price, [s.price for s in (anchor or state.shown)])
    if turn.need and turn.intent == "search":
        new.need = turn.need
    elif turn.need:
        new.need = " ".join(dict.fromkeys([*new.need.split(), *turn.need.split()]))
    if anchor and turn.intent in ("refine", "search") and not turn.relative_price:
        new.need = anchor[0].title  # "like the first but in <value>"
    new.filters = SearchFilters(**f)
    new.avoid = list(dict.fromkeys([*new.avoid, *turn.avoid]))
    explicit = [*new.explicit, *c.explicit]
    if turn.intent == "clarify_answer":  # the answer to the assistant's own question
        explicit += [f"facet:{k}={v}" for k, vs in c.facets.items() for v in vs]
    present = {f"facet:{k}={v}" for k, vs in new.filters.facets.items() for v in vs}
    present |= {f"category:{c}" for c in new.categories}
    new.explicit = [k for k in dict.fromkeys(explicit) if k in present]
    return new


def _drop(f: dict, cats: list[str], remove: list[str]) -> list[str]:
    """The slots the shopper let go ("any price", "forget the brand"); the categories left."""
    for slot in remove:
        if slot == "price":
            f.update(price_min=None, price_max=None, price_min_strict=False, price_max_strict=False)
        elif slot == "category":
            cats = []
        elif slot != "all":
            for table in ("facets", "exclude_facets"):
                f[table] = {k: v for k, v in f[table].items() if normalise(k) != normalise(slot)}
            f["quantities"] = [
                q for q in f["quantities"] if normalise(slot) not in map(normalise, q["keys"])
            ]
    return cats


def _take_stated(f: dict, c: ConstraintSet) -> None:
    """The turn's constraints into the filters: a bound, value or quantity stated now
    replaces the one before; exclusions accumulate."""
    if c.price_max is not None:
        f.update(price_max=c.price_max, price_max_strict=c.price_max_strict)
        if f["price_min"] is not None and f["price_min"] > c.price_max:
            f["price_min"] = None
    if c.price_min is not None:
        f.update(price_min=c.price_min, price_min_strict=c.price_min_strict)
        if f["price_max"] is not None and f["price_max"] < c.price_min:
            f["price_max"] = None
    for key, values in c.facets.items():  # a value named now replaces the one before
        f["facets"][key] = list(values)
        if key in f["exclude_facets"]:
            f["exclude_facets"][key] = [x for x in f["exclude_facets"][key] if x not in values]
            if not f["exclude_facets"][key]:
                del f["exclude_facets"][key]
    for key, values in c.exclude_facets.items():  # exclusions accumulate ("no <value> either")
        f["exclude_facets"][key] = list(dict.fromkeys(f["exclude_facets"].get(key, []) + values))
        if key in f["facets"]:
            f["facets"][key] = [x for x in f["facets"][key] if x not in values]
            if not f["facets"][key]:
                del f["facets"][key]
    for q in c.quantities:  # a quantity of the same kind replaces the one before
        f["quantities"] = [
            old
            for old in f["quantities"]
            if not (old["dimension"] == q.dimension and set(old["keys"]) == set(q.keys))
        ] + [q.model_dump()]
    if c.exclude_categories:
        f["exclude_categories"] = list(
            dict.fromkeys(f["exclude_categories"] + c.exclude_categories)
        )


def _relative_price(f: dict, relative: str | None, prices: list[float | None]) -> None:
    """ "cheaper" / "pricier": below the cheapest or above the dearest of those meant."""
    priced = [p for p in prices if p is not None]
    if relative == "cheaper" and priced:
        f.update(price_max=min(priced), price_max_strict=True)
        if f["price_min"] is not None and f["price_min"] >= f["price_max"]:
            f["price_min"] = None
    elif relative == "pricier" and priced:
        f.update(price_min=max(priced), price_min_strict=True)
        if f["price_max"] is not None and f["price_max"] <= f["price_min"]:
            f["price_max"] = None


def ranking_query(state: DialogueState) -> str:
    """What the ranker scores relevance against: the need with the categories and facet
    values the filters already enforce ("<value> <need words> <top> <kind>")."""
    values = [v for vs in state.filters.facets.values() for v in vs]
    parts = [*values, state.need, *state.categories]
    return " ".join(dict.fromkeys(p for p in parts if p)).strip()
