"""The words replies are built from, all from the catalog: what was asked for
("<audience>'s <kind> in <value> under <price>, not <value>"), a product's price in the
shop's currency, and compact fact lines for the LLM. Why a product fits: explain.py."""

from __future__ import annotations

from base.language.general import language
from base.language.money import format_money
from base.language.text import term, words
from ranking.rank import RankedItem
from retrieval.lexicon import Lexicon

from .chips import price_label
from .records import DialogueState, ShownItem


def shown_items(items: list[RankedItem]) -> list[ShownItem]:
    """What the conversation remembers of a list it showed (for "the first one")."""
    return [
        ShownItem(
            product_id=i.product.id,
            title=i.product.title,
            price=item_price(i),
            category=i.product.category,
            available=i.product.available,
        )
        for i in items
    ]


def item_price(item: RankedItem) -> float | None:
    """The price of the variant that matched (a larger option may cost more),
    else the product's own."""
    p = item.product
    prices = [p.variant_price(v) for v in item.matching_variants]
    prices = [x for x in prices if x is not None]
    return min(prices) if prices else p.price


def money(value: float | None, currency: str = "USD") -> str:
    return format_money(value, currency)


def category_words(categories: list[str], lexicon: Lexicon) -> str:
    """ "<audience>'s <kind>", "<kind>", "<kind> or <kind>": audiences as possessives, the
    catalog's top-level categories as "from …", kinds joined by "or"."""
    lang = language()
    audience, tops, kinds = [], [], []
    for seg in categories:
        c = lexicon.categories.get(seg)
        display = c.display if c and not c.derived else seg
        if term(seg) in {term(w) for ws in lang.audience.values() for w in ws}:
            said = display.casefold()  # "men's" is a possessive already
            said = said if said.endswith("'s") else f"{said}'s"
            if said not in audience:
                audience.append(said)
        elif c and c.depth == 0:
            tops.append(display)
        else:
            kinds.append(display.casefold() if c and not c.derived else _plural(seg))
    text = " ".join([*audience, " or ".join(kinds) or "products"])
    return text + (f" from {' and '.join(tops)}" if tops else "")


def _plural(word: str) -> str:
    return word if word.endswith("s") else (word[:-1] + "ies" if word.endswith("y") else word + "s")


def describe_constraints(state: DialogueState, lexicon: Lexicon) -> str:
    f = state.filters
    parts = [category_words(state.categories, lexicon)]
    color_keys = {k.casefold() for k in lexicon.color_keys()}
    for key, values in f.facets.items():
        if key.casefold() in color_keys:
            parts.append("in " + " or ".join(v.casefold() for v in values))
        else:
            parts.append(f"({key.replace('_', ' ')}: {' or '.join(values)})")
    parts += [f"with {' / '.join(q.keys)} {q.label}" if q.keys else q.label for q in f.quantities]
    if not f.price.is_open():
        parts.append(price_label(f, lexicon.currency))
    for key, values in f.exclude_facets.items():
        name = "" if key.casefold() in color_keys else f" ({key.replace('_', ' ')})"
        parts.append("not " + " or ".join(v.casefold() for v in values) + name)
    if f.exclude_categories:
        parts.append("no " + " or ".join(f.exclude_categories))
    return " ".join(parts)


def clip(text: str, limit: int = 140) -> str:
    """A sentence cut at a word boundary."""
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def sentence_end(text: str) -> str:
    """Text ending in one full stop (not after an ellipsis or a question mark)."""
    text = text.rstrip(" .")
    return text if text.endswith(("…", "!", "?")) else text + "."


def availability_note(item: RankedItem) -> str:
    p = item.product
    if not p.available:
        return " (out of stock)"
    if item.matching_variants and not any(v.available for v in item.matching_variants):
        return " (out of stock in that option)"
    return ""


def template_reply(
    items: list[RankedItem],
    state: DialogueState,
    lexicon: Lexicon,
    reasons: list[str],
    intro: str | None = None,
) -> str:
    """A reply built from the facts directly (`reasons`: one per product, from explain.py):
    always true, a little plain."""
    if not items:
        return "I couldn't find a product that matches all of that."
    what = describe_constraints(state, lexicon)
    matched = sum(not i.fill for i in items)
    # a kind is named as the catalog writes it, often plural: "1 match for laptops", not "1 laptops"
    head = f"Here is 1 match for {what}:" if matched == 1 else f"Here are {matched} {what}:"
    lines = [intro or head]
    for i, (item, reason) in enumerate(zip(items, reasons, strict=True), 1):
        if item.fill and not items[i - 2].fill:
            lines.append("Close to what you asked, though not all of it:")
        p = item.product
        options = [" / ".join(v.options.values()) for v in item.matching_variants[:3] if v.options]
        shade = f" ({', '.join(dict.fromkeys(options))})" if options else ""
        lines.append(
            f"[{i}] {p.title}: {money(item_price(item), p.currency)}{shade}"
            f"{availability_note(item)}. {sentence_end(reason)}"
        )
    return "\n".join(lines)


def fact_lines(items: list[RankedItem], need: str) -> str:
    """Compact facts, one line a product: what a small model can read quickly."""
    wanted = {term(w) for w in words(need)}
    lines = []
    for i, item in enumerate(items, 1):
        p = item.product
        parts = [p.title, money(item_price(item), p.currency)]
        if not p.available:
            parts.append("out of stock")
        facets = {k: p.values(k) for k in p.facet_keys()}
        keys = sorted(
            (k for k, v in facets.items() if v and v != ["yes"] and v != ["no"]),
            key=lambda k: -len({term(w) for v in facets[k] for w in words(v)} & wanted),
        )
        for key in keys[:3]:
            parts.append(f"{key.replace('_', ' ')}: {', '.join(facets[key][:5])}")
        bullets = [b.strip() for b in p.description.split("•")[1:] if b.strip()]
        first = p.description.split("•")[0].strip().split(". ")[0]
        parts += [clip(h, 160) for h in (bullets[:1] or [first]) if h]
        lines.append(f"{i}. " + " | ".join(parts))
    return "\n".join(lines)
