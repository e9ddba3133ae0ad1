"""The words replies are built from, all from the catalog: what was asked for
("<audience>'s <kind> in <value> under <price>, not <value>"), a product's price in the
shop's currency, why a product fits (reason_for), and compact fact lines for the LLM."""

from __future__ import annotations

from ranking.rank import RankedItem
from retrieval.color import basic_color
from retrieval.kinds import title_kind
from retrieval.language.general import language
from retrieval.language.money import format_money
from retrieval.language.text import term, words
from retrieval.lexicon import Lexicon
from retrieval.schema import SearchFilters

from .chips import price_label
from .records import DialogueState


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
            audience.append(f"{display.casefold()}'s")
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


def reason_for(item: RankedItem, need: str, filters: SearchFilters) -> str:
    """Why this product fits, from its own fields: facet values and description phrases
    that share words with the need, then the constraints it meets."""
    p = item.product
    own_kind = {term(w) for w in words(p.category.split("/")[-1])} if p.category else set()
    own_kind |= {k for k in [title_kind(p.title)] if k}  # its own kind is no reason for it
    wanted = {term(w) for w in words(need) if len(w) > 2} - own_kind
    hits: list[str] = []
    for key, values in p.attributes.items():
        for value in values:
            if value.casefold() not in ("yes", "no") and {term(w) for w in words(value)} & wanted:
                hits.append(f"{key.replace('_', ' ')}: {value}")
    shown = {
        v.casefold()
        for var in (item.matching_variants or p.purchasable_variants())
        for v in var.options.values()
    }
    bullets = [b.strip() for b in p.description.split("•")[1:] if b.strip()]
    for bullet in bullets:
        # a bullet naming a colour this listing does not show would contradict it
        other = {w for w in words(bullet) if basic_color(w)} - shown
        if {term(w) for w in words(bullet)} & wanted and not other and len(hits) < 3:
            hits.append(bullet.rstrip("."))
    for key in filters.facets:
        said = [v for var in item.matching_variants if (v := var.option(key))]
        if said:
            hits.append(f"comes in {', '.join(dict.fromkeys(said))}")
    if not hits:  # what the product is, in its own description's words
        plain = [
            b.rstrip(".") for b in bullets if not ({w for w in words(b) if basic_color(w)} - shown)
        ]
        first = _clip(p.description.split("•")[0].strip().split(". ")[0].rstrip("."))
        hits.append(plain[0] if plain else (first or p.category.split("/")[-1] or "a close match"))
    return "; ".join(dict.fromkeys(hits[:3]))


def _clip(text: str, limit: int = 140) -> str:
    """A sentence cut at a word boundary."""
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def availability_note(item: RankedItem) -> str:
    p = item.product
    if not p.available:
        return " (out of stock)"
    if item.matching_variants and not any(v.available for v in item.matching_variants):
        return " (out of stock in that option)"
    return ""


def template_reply(
    items: list[RankedItem], state: DialogueState, lexicon: Lexicon, intro: str | None = None
) -> str:
    """A reply built from the facts directly: always true, a little plain."""
    if not items:
        return "I couldn't find a product that matches all of that."
    what = describe_constraints(state, lexicon)
    # a kind is named as the catalog writes it, often plural: "1 match for laptops", not "1 laptops"
    head = f"Here is 1 match for {what}:" if len(items) == 1 else f"Here are {len(items)} {what}:"
    lines = [intro or head]
    for i, item in enumerate(items, 1):
        p = item.product
        options = [" / ".join(v.options.values()) for v in item.matching_variants[:3] if v.options]
        shade = f" ({', '.join(dict.fromkeys(options))})" if options else ""
        reason = reason_for(item, state.need, state.filters)
        lines.append(
            f"[{i}] {p.title}: {money(item_price(item), p.currency)}{shade}"
            f"{availability_note(item)}. {reason}."
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
        parts += [_clip(h, 160) for h in (bullets[:1] or [first]) if h]
        lines.append(f"{i}. " + " | ".join(parts))
    return "\n".join(lines)
