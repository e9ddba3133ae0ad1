"""The constraints the assistant understood, as chips a shopper can remove one by one."""

from __future__ import annotations

from .records import Chip, DialogueState
from .state import compose_categories
from .vocabulary import Vocabulary


def _price(lo: float | None, hi: float | None) -> str:
    if lo is not None and hi is not None:
        return f"${lo:g}–${hi:g}"
    return f"under ${hi:g}" if hi is not None else f"over ${lo:g}"


def chips_of(state: DialogueState) -> list[Chip]:
    f = state.filters
    out: list[Chip] = []
    out += [Chip(key=f"department:{d}", label=f"{d}'s") for d in state.departments]
    out += [Chip(key=f"kind:{k}", label=k) for k in state.kinds]
    if f.price_min is not None or f.price_max is not None:
        out.append(Chip(key="price:", label=_price(f.price_min, f.price_max)))
    out += [Chip(key=f"color:{c}", label=c.casefold()) for c in f.colors]
    out += [Chip(key=f"size:{s}", label=f"size {s}") for s in f.sizes]
    for key, values in f.attributes.items():
        out += [Chip(key=f"attribute:{key}={v}", label=v) for v in values]
    out += [Chip(key=f"exclude_color:{c}", label=f"not {c.casefold()}") for c in f.exclude_colors]
    out += [Chip(key=f"exclude_size:{s}", label=f"not size {s}") for s in f.exclude_sizes]
    out += [Chip(key=f"exclude_category:{c}", label=f"no {c}") for c in f.exclude_categories]
    for key, values in f.exclude_attributes.items():
        out += [Chip(key=f"exclude_attribute:{key}={v}", label=f"no {v}") for v in values]
    return out


def without(state: DialogueState, key: str, vocab: Vocabulary) -> DialogueState:
    """The state with one chip removed; unknown keys raise ValueError naming the chip."""
    if key not in {c.key for c in chips_of(state)}:
        raise ValueError(f"no constraint {key!r} in this conversation")
    slot, _, value = key.partition(":")
    new = state.model_copy(deep=True)
    f = new.filters
    if slot == "department":
        new.departments = [d for d in new.departments if d != value]
    elif slot == "kind":
        new.kinds = [k for k in new.kinds if k != value]
    elif slot == "price":
        f.price_min = f.price_max = None
    elif slot in ("color", "size", "exclude_color", "exclude_size", "exclude_category"):
        name = {
            "color": "colors",
            "size": "sizes",
            "exclude_color": "exclude_colors",
            "exclude_size": "exclude_sizes",
            "exclude_category": "exclude_categories",
        }[slot]
        setattr(f, name, [v for v in getattr(f, name) if v != value])
    else:  # attribute / exclude_attribute: "material=wool"
        table = f.attributes if slot == "attribute" else f.exclude_attributes
        name, _, v = value.partition("=")
        table[name] = [x for x in table.get(name, []) if x != v]
        if not table[name]:
            del table[name]
    f.categories = compose_categories(new.departments, new.kinds, vocab)
    return new
