"""The constraints the assistant understood, as chips a shopper can remove one by one."""

from __future__ import annotations

from base.language.general import language
from base.language.money import format_amount
from retrieval.schema import SearchFilters

from .records import Chip, DialogueState
from .understanding.catalog import CatalogView


def price_label(filters: SearchFilters, currency: str) -> str:
    return filters.price.describe(lambda x: format_amount(x, currency))


def category_label(segment: str) -> str:
    """An audience segment as a possessive ("<audience>'s"), else the segment as it is."""
    audiences = {w for ws in language().audience.values() for w in ws}
    if segment.endswith("'s") or segment.replace(" ", "") not in audiences:
        return segment  # ("men's" is possessive already)
    return f"{segment}'s"


def chips_of(state: DialogueState, currency: str = "USD") -> list[Chip]:
    f = state.filters
    soft = set(state.soft)  # read from words, they re-ranked the last reply (evidence.py)
    out: list[Chip] = [
        Chip(key=f"category:{c}", label=category_label(c), soft=f"category:{c}" in soft)
        for c in state.categories
    ]
    if not f.price.is_open():
        out.append(Chip(key="price:", label=price_label(f, currency)))

    def shown(key: str, value: str) -> str:  # colours folded, other values as written
        return value.casefold() if language().is_color_key(key) else value

    for key, values in f.facets.items():
        out += [
            Chip(key=f"facet:{key}={v}", label=shown(key, v), soft=f"facet:{key}={v}" in soft)
            for v in values
        ]
    out += [Chip(key=f"quantity:{i}", label=q.label) for i, q in enumerate(f.quantities)]
    out += [Chip(key=f"exclude_category:{c}", label=f"no {c}") for c in f.exclude_categories]
    for key, values in f.exclude_facets.items():
        out += [Chip(key=f"exclude_facet:{key}={v}", label=f"not {shown(key, v)}") for v in values]
    return out


def without(state: DialogueState, key: str, view: CatalogView) -> DialogueState:
    """The state with one chip removed; unknown keys raise ValueError naming the chip."""
    if key not in {c.key for c in chips_of(state)}:
        raise ValueError(f"no constraint {key!r} in this conversation")
    slot, _, value = key.partition(":")
    new = state.model_copy(deep=True)
    f = new.filters
    if slot == "category":
        new.categories = [c for c in new.categories if c != value]
    elif slot == "price":
        f.price_min = f.price_max = None
        f.price_min_strict = f.price_max_strict = False
    elif slot == "quantity":
        f.quantities = [q for i, q in enumerate(f.quantities) if str(i) != value]
    elif slot == "exclude_category":
        f.exclude_categories = [c for c in f.exclude_categories if c != value]
    else:  # facet / exclude_facet: "<key>=<value>"
        table = f.facets if slot == "facet" else f.exclude_facets
        name, _, v = value.partition("=")
        table[name] = [x for x in table.get(name, []) if x != v]
        if not table[name]:
            del table[name]
    f.categories = view.compose(new.categories)
    return new


def best_relaxation(
    state: DialogueState, view: CatalogView, count, currency: str = "USD"
) -> tuple[Chip, int] | None:
    """The one constraint whose removal gives the most products, and how many (`count(filters)
    -> int`), when nothing matches them all; None when no single removal helps. The kind of
    product is what the shopper came for: it is offered only when nothing else helps."""
    found = [(c, count(without(state, c.key, view).filters)) for c in chips_of(state, currency)]
    found = [(c, n) for c, n in found if n]
    kinds = [x for x in found if x[0].key.startswith("category:")]
    others = [x for x in found if not x[0].key.startswith("category:")]
    return max(others or kinds, key=lambda x: x[1], default=None)
