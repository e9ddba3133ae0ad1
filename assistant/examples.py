"""Examples in this shop's own words, for the page's placeholder, the agent console's
example conversation and the LLM reader's few-shot prompt: built from the catalog's
lexicon, so a shop's page never suggests another shop's products."""

from __future__ import annotations

import math

import numpy as np

from base.language.money import format_amount
from retrieval.lexicon import Lexicon


def common_kind(lexicon: Lexicon) -> str:
    """The kind most products are filed under (a category with no kinds below it)."""
    kinds = [
        c
        for c in lexicon.kinds()
        if c.leaf and not c.derived and c.segment not in lexicon.collections
    ] or [c for c in lexicon.kinds() if c.segment not in lexicon.collections]
    if not kinds:
        return "something"
    return max(kinds, key=lambda c: c.count).segment


def common_value(lexicon: Lexicon, view=None) -> tuple[str, str] | None:
    """(facet key, value) a shopper would plausibly ask for of the common kind: a value a
    fair share of that kind's products hold (20–60 %: not a near-universal default such as
    a "Solid" pattern), a colour first where the catalog has one. `view`: a CatalogView to
    count with; without one, the shares are over the whole catalog."""
    from retrieval.schema import SearchFilters

    kind = common_kind(lexicon)
    base = SearchFilters(categories=[kind]) if kind in lexicon.categories else SearchFilters()
    total = view.count(base) if view else lexicon.products
    facets = [f for f in lexicon.facets.values() if f.constrains and not f.dimension]
    # a colour first, then facets of few values (descriptive ones: a brand has many)
    facets.sort(key=lambda f: (not f.color, len(f.values), -f.products))
    for f in facets:
        fair = []
        for v, n in f.values.items():
            if len(v) <= 2 or any(c.isdigit() for c in v):
                continue
            share = (
                view.count(base.model_copy(update={"facets": {f.key: [v]}})) if view else n
            ) / max(total, 1)
            if 0.2 <= share <= 0.6:
                fair.append((share, v))
        if fair:
            return f.key, max(fair)[1]
    return None


def typical_price(prices) -> float | None:
    """The median of the catalog's known prices (NaN where a product has none)."""
    known = np.asarray(prices, dtype=float)
    known = known[np.isfinite(known)]
    return float(np.median(known)) if known.size else None


def round_price(price: float | None) -> float:
    if not price or price <= 0:
        return 50.0
    step = 10 ** max(0, int(math.log10(price)))
    return float(math.ceil(price / step) * step)


def example_request(lexicon: Lexicon, typical_price: float | None, view=None) -> str:
    """A request in this catalog's words and currency: "<value> <kind> under <price>"."""
    value = common_value(lexicon, view)
    words = f"{value[1].casefold()} " if value else ""
    price = format_amount(round_price(typical_price), lexicon.currency)
    return f"{words}{common_kind(lexicon)} under {price}"


def example_conversation(title: str | None) -> str:
    what = f"the {title}" if title else "something"
    return (
        f"Customer: Hi! I bought {what} last week and it isn't right for me.\n"
        "Agent: Sorry to hear that! Happy to help.\n"
        "Customer: Can I exchange it, and how long do I have?"
    )


def reader_examples(lexicon: Lexicon, view=None) -> list[tuple[str, dict]]:
    """Few-shot examples for the LLM reader, made of this catalog's own kind and values."""
    kind = common_kind(lexicon)
    value = common_value(lexicon, view)
    first: dict = {"intent": "search", "need": kind, "price_max": 60}
    text = f"looking for {kind} below 60, "
    if value:
        text += f"nothing {value[1].casefold()}"
        first["exclude_facets"] = [f"{value[0]}={value[1]}"]
    else:
        text += "nothing fancy"
    return [
        (text, first),
        (
            "how about the third one, is it any good?",
            {"intent": "ask_item", "need": "", "references": [3]},
        ),
        ("price doesn't matter really", {"intent": "refine", "need": "", "remove": ["price"]}),
        ("can you recommend a good restaurant nearby", {"intent": "out_of_scope", "need": ""}),
    ]
