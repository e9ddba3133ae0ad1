"""The one clarifying question worth asking: about the facet that best splits the products
that match so far (department, brand, screen size, roast, pack size …), in the catalog's own
words, at most once per facet, never about what the shopper already said, and only when the
results are broad."""

from __future__ import annotations

from collections import Counter

from retrieval.facets import path_segments
from retrieval.lexicon import Lexicon
from retrieval.schema import Product

from ..records import DialogueState

MIN_COVER = 0.8  # the facet is listed by most of the products in question
MAX_SHARE = 0.75  # no single value holds nearly all of them
MAX_VALUES = 6  # a question lists a few choices, not a catalogue


def _category_levels(products: list[Product], state: DialogueState, lexicon: Lexicon):
    """Per level of the products' own category paths that the shopper has not named: each
    product's segment there (the audiences or departments a kind is filed under)."""
    named = set(state.categories)
    collections = set(lexicon.collections)
    rows = []
    for p in products:
        segs = path_segments(p.category) if p.category else []
        rows.append([] if segs and segs[0] in collections else segs)
    for depth in range(max((len(r) for r in rows), default=0)):
        level = [r[depth] if len(r) > depth else None for r in rows]
        if not named & set(level):
            yield [[v] if v else [] for v in level]


def _score(values: list[list[str]]) -> float | None:
    n = len(values)
    covered = [v for v in values if v]
    if n < 2 or len(covered) < MIN_COVER * n:
        return None
    counts = Counter(x for v in covered for x in set(v))
    if not 2 <= len(counts) <= MAX_VALUES * 2:
        return None
    top = counts.most_common(1)[0][1] / n
    if top > MAX_SHARE or all(c == len(covered) for c in counts.values()):
        return None  # one value for nearly all, or every product lists every value
    return (1 - top) - 0.02 * max(0, len(counts) - MAX_VALUES)


def clarifying_question(
    products: list[Product], state: DialogueState, lexicon: Lexicon, total: int, shown: int
) -> tuple[str, str] | None:
    """(question, facet asked about) or None. `products`: the best matches so far."""
    if total < 2 * shown or len(products) < 4:
        return None
    said = {k.casefold() for k in state.filters.facets} | {
        k.casefold() for q in state.filters.quantities for k in q.keys
    }
    asked = {a.casefold() for a in state.asked}
    options: list[tuple[float, str, Counter]] = []
    if "category" not in asked:
        for level in _category_levels(products, state, lexicon):
            if (s := _score(level)) is not None:
                options.append((s + 0.05, "category", Counter(x for v in level for x in v)))
                break
    for f in lexicon.facets.values():
        key = f.key.casefold()
        if not f.constrains or key in said or key in asked or f.color:
            continue
        values = [p.values(f.key) for p in products]
        if (s := _score(values)) is not None:
            options.append((s, f.key, Counter(x for v in values for x in set(v))))
    if not options:
        return None
    _, key, counts = max(options, key=lambda o: o[0])
    choices = [v for v, _ in counts.most_common(4)]
    if key == "category":
        names = [lexicon.categories[c].display if c in lexicon.categories else c for c in choices]
        return f"Are you looking for {_join(names)}?", "category"
    return f"Any preference for {key.replace('_', ' ')}: {_join(choices)}?", key


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]
