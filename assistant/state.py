"""How a turn changes the dialogue state: constraints accumulate across turns, a slot
stated again replaces the old value, "any colour is fine" drops it, a new kind of product
starts a new topic, and references resolve against the items shown."""

from __future__ import annotations

from retrieval.schema import SearchFilters

from .records import DialogueState, TurnInterpretation
from .vocabulary import Vocabulary

CENT = 0.01  # "cheaper than $52" means at most $51.99


def split_categories(values: list[str], vocab: Vocabulary) -> tuple[list[str], list[str]]:
    """(departments, kinds): "women" is a department; "jackets" a kind."""
    departments = [v for v in values if v in vocab.departments]
    return departments, [v for v in values if v not in departments]


def _combination_exists(state: DialogueState, vocab: Vocabulary) -> bool:
    return not (state.departments and state.kinds) or any(
        c.split("/")[0] in state.departments and any(k in c.split("/")[1:] for k in state.kinds)
        for c in vocab.categories
    )


def compose_categories(departments: list[str], kinds: list[str], vocab: Vocabulary) -> list[str]:
    """Category filter values meaning department AND kind, as the catalog's own paths."""
    if not (departments and kinds):
        return departments or kinds
    paths = [
        c
        for c in vocab.categories
        if c.split("/")[0] in departments and any(k in c.split("/")[1:] for k in kinds)
    ]
    # none: keep a path that names both, so the empty result says which combination failed
    return paths or [f"{departments[0]}/{kinds[0]}"]


def apply_turn(state: DialogueState, turn: TurnInterpretation, vocab: Vocabulary) -> DialogueState:
    new = state.model_copy(deep=True)
    new.turns += 1
    if turn.intent in ("smalltalk", "out_of_scope"):
        return new
    if turn.references:
        new.focus = [r for r in turn.references if 1 <= r <= len(state.shown)]
    if turn.intent in ("compare", "ask_item", "cart"):
        return new

    f = new.filters.model_dump()
    departments, kinds = new.departments, new.kinds
    if turn.new_topic or "all" in turn.remove:
        f = SearchFilters().model_dump()
        departments, kinds, new.need = (departments if turn.new_topic else []), [], ""
        new.focus = []
    for slot in turn.remove:
        if slot == "price":
            f["price_min"] = f["price_max"] = None
        elif slot == "color":
            f["colors"], f["exclude_colors"] = [], []
        elif slot == "size":
            f["sizes"], f["exclude_sizes"] = [], []
        elif slot == "category":
            departments, kinds = [], []
        elif slot == "material":
            f["exclude_attributes"].pop("material", None)

    c = turn.constraints
    if c.price_max is not None:
        f["price_max"] = c.price_max
        if f["price_min"] is not None and f["price_min"] > c.price_max:
            f["price_min"] = None
    if c.price_min is not None:
        f["price_min"] = c.price_min
        if f["price_max"] is not None and f["price_max"] < c.price_min:
            f["price_max"] = None
    if c.colors:  # a colour named now replaces the one before and lifts its exclusion
        f["colors"] = list(c.colors)
        f["exclude_colors"] = [x for x in f["exclude_colors"] if x not in c.colors]
    if c.exclude_colors:  # exclusions accumulate: "not yellow", later "no red either"
        f["exclude_colors"] = list(dict.fromkeys(f["exclude_colors"] + c.exclude_colors))
        f["colors"] = [x for x in f["colors"] if x not in c.exclude_colors]
    if c.sizes:
        f["sizes"] = list(c.sizes)
    for key, values in c.exclude_attributes.items():
        f["exclude_attributes"][key] = list(
            dict.fromkeys(f["exclude_attributes"].get(key, []) + values)
        )
    if c.exclude_categories:
        f["exclude_categories"] = list(
            dict.fromkeys(f["exclude_categories"] + c.exclude_categories)
        )
    said_departments, said_kinds = split_categories(c.categories, vocab)
    new.departments = said_departments or departments
    new.kinds = said_kinds or kinds
    if turn.new_topic and not said_departments and not _combination_exists(new, vocab):
        new.departments = []  # "for women" earlier; now backpacks, which have no department
    f["categories"] = compose_categories(new.departments, new.kinds, vocab)

    # relative prices and "like the first but …" resolve against what was shown
    shown = state.shown
    anchor = [shown[r - 1] for r in turn.references if 1 <= r <= len(shown)]
    priced = [s.price for s in (anchor or shown) if s.price is not None]
    if turn.relative_price == "cheaper" and priced:
        f["price_max"] = round(min(priced) - CENT, 2)
        if f["price_min"] is not None and f["price_min"] > f["price_max"]:
            f["price_min"] = None
    elif turn.relative_price == "pricier" and priced:
        f["price_min"] = round(max(priced) + CENT, 2)
        f["price_max"] = (
            None
            if f["price_max"] is not None and f["price_max"] < f["price_min"]
            else f["price_max"]
        )
    if turn.need and turn.intent == "search":
        new.need = turn.need
    elif turn.need:
        new.need = " ".join(dict.fromkeys([*new.need.split(), *turn.need.split()]))
    if anchor and turn.intent in ("refine", "search") and not turn.relative_price:
        new.need = anchor[0].title  # "like the first but in blue"
    new.filters = SearchFilters(**f)
    return new


def ranking_query(state: DialogueState) -> str:
    """What the ranker scores relevance against: the need with the departments, colours and
    kinds the filters already enforce ("women's blue warm jackets")."""
    parts = [f"{d}'s" for d in state.departments] + list(state.filters.colors)
    parts += [state.need, *state.kinds]
    return " ".join(p for p in parts if p).strip()
