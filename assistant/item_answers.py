"""Answers about shown products from catalog fields alone, with no LLM call: side-by-side
comparisons, and questions about one item ("how much is it?", "does it come in <value>?",
"is it <value>?", "is it machine washable?")."""

from __future__ import annotations

import re

from base.language.general import phrasings
from base.language.text import term, words
from retrieval.color import basic_color
from retrieval.facets import value_matches
from retrieval.lexicon import Lexicon
from retrieval.schema import Product

from .records import CompareRow, CompareTable
from .understanding.words import phrase_terms
from .wording import money

_P = phrasings()
COMES_IN = _P.pattern("comes_in")
PRICE_QUESTION = _P.pattern("price_question")
STOCK_QUESTION = _P.pattern("stock_question")
STOP = set(_P.words["item_question_stop"])


def compare_rows(products: list[Product]) -> list[tuple[str, list[str]]]:
    """Side-by-side rows (name, one value per product) from catalog fields only: the rows
    where the products differ first, then those they share."""
    rows = [("price", [money(p.price, p.currency) for p in products])]
    keys = list(dict.fromkeys(k for p in products for k in p.facet_keys()))
    for key in keys:
        values = [p.values(key) for p in products]
        if all(v in ([], ["no"]) for v in values):
            continue
        rows.append((key.replace("_", " "), [", ".join(v) or "—" for v in values]))
    rows.append(
        (
            "rating",
            [
                f"{p.rating:.1f}/5 ({p.review_count} reviews)" if p.rating else "no reviews"
                for p in products
            ],
        )
    )
    rows.append(("in stock", ["yes" if p.available else "no" for p in products]))
    differ = [r for r in rows if len(set(r[1])) > 1]
    return (differ + [r for r in rows if len(set(r[1])) <= 1])[:10]


def compare_table(products: list[Product]) -> CompareTable:
    return CompareTable(
        title=f"Comparing {' vs '.join(p.title for p in products)}:",
        columns=[p.title for p in products],
        rows=[CompareRow(name=n, values=v) for n, v in compare_rows(products)],
        note=_cheapest(products),
    )


def _cheapest(products: list[Product]) -> str:
    priced = [p for p in products if p.price is not None]
    if len({p.price for p in priced}) < 2:
        return ""
    return f"The {min(priced, key=lambda p: p.price).title} is the least expensive."


def compare_reply(products: list[Product]) -> str:
    """The comparison as text: a Markdown table (the page draws it from `compare_table`,
    with every catalog string escaped)."""
    if len(products) < 2:
        return "I need at least two of the products shown to compare."
    t = compare_table(products)
    cell = lambda x: x.replace("|", "/")  # noqa: E731 - a catalog "|" would split the cell
    lines = [t.title, "", "| | " + " | ".join(map(cell, t.columns)) + " |"]
    lines.append("|---" * (len(t.columns) + 1) + "|")
    lines += [f"| {r.name} | " + " | ".join(map(cell, r.values)) + " |" for r in t.rows]
    return "\n".join([*lines, *([t.note] if t.note else [])])


def _mentioned_values(question: str, product: Product, lexicon: Lexicon | None):
    """(facet key, value said) for every catalog value of the product's facets the question
    names: "does it come in <size> / in <colour> / in <quantity>?", "is it <value>?"."""
    said = phrase_terms(question)
    raw = words(question)
    out = []
    for key in product.facet_keys():
        facet = lexicon.facet(key) if lexicon else None
        values = list(facet.values) if facet else product.values(key)
        for value in values:
            vt = phrase_terms(value)
            short = len(value) <= 3
            hit = (
                any(tuple(said[i : i + len(vt)]) == vt for i in range(len(said)))
                if not short
                else re.search(rf"(?<![\w-]){re.escape(value)}(?![\w-])", question) is not None
            )
            if hit:
                out.append((key, value))
        if facet and facet.color:
            seen = {v.casefold() for _, v in out}  # "Black" said once, not "Black or black"
            out += [(key, w) for w in raw if basic_color(w) and w.casefold() not in seen]
    return out


def answer_about_list(
    products: list[Product], question: str, lexicon: Lexicon | None = None
) -> tuple[str, list[int]] | None:
    """ "Does it come in <value>?" asked after a list, no product singled out: which listed
    products hold the value (1-based positions) and which do not; None when the question
    names no value of the listed products' facets (then it is about one product)."""
    asked = {i: _mentioned_values(question, p, lexicon) for i, p in enumerate(products, 1)}
    if not any(asked.values()):
        return None
    said = list(dict.fromkeys(v for pairs in asked.values() for _, v in pairs))
    have = [
        i
        for i, p in enumerate(products, 1)
        if asked[i] and all(any(value_matches(k, x, v) for x in p.values(k)) for k, v in asked[i])
    ]
    named = lambda ids: ", ".join(f"[{i}] {products[i - 1].title}" for i in ids)  # noqa: E731
    what = " and ".join(said)
    others = [i for i in range(1, len(products) + 1) if i not in have]
    if not have:
        return f'None of these comes in {what}. Ask for it ("in {what}") to see ones that do.', []
    if not others:
        return f"Yes, all of these come in {what}.", have
    return f"In {what}: {named(have)}. Not in {what}: {named(others)}.", have


def answer_about(product: Product, question: str, lexicon: Lexicon | None = None) -> str:
    """An answer from the product's own fields, quoting what the catalog says, or saying
    that it does not say."""
    if PRICE_QUESTION.search(question):
        prices = sorted(
            {
                p
                for v in product.purchasable_variants()
                if (p := product.variant_price(v)) is not None
            }
        )
        if not prices:
            return f"The catalog lists no price for the {product.title}."
        if len(prices) > 1:
            return (
                f"The {product.title} costs from {money(prices[0], product.currency)} "
                f"to {money(prices[-1], product.currency)}, depending on the option."
            )
        return f"The {product.title} costs {money(prices[0], product.currency)}."
    if STOCK_QUESTION.search(question):
        return (
            f"Yes, the {product.title} is in stock."
            if product.available
            else f"Sorry, the {product.title} is out of stock right now."
        )
    asked = _mentioned_values(question, product, lexicon)
    option_keys = list(dict.fromkeys(k for v in product.variants for k in v.options))
    option_keys = option_keys or list(product.variant_options)
    if not asked and option_keys and (m := COMES_IN.search(question)):
        wanted = m.group(1).strip()  # "does it come in XS?": a value this catalog never lists
        listing = "; ".join(f"{k}: {', '.join(product.values(k))}" for k in option_keys)
        return f"No, the {product.title} doesn't come in {wanted}. It lists {listing}."
    if asked:
        have, missing = [], []
        for key, value in asked:
            own = product.values(key)
            (have if any(value_matches(key, v, value) for v in own) else missing).append(
                (key, value)
            )
        listing = "; ".join(
            f"{k.replace('_', ' ')}: {', '.join(product.values(k))}"
            for k in dict.fromkeys(k for k, _ in asked)
        )
        if not missing:
            return (
                f"Yes, the {product.title} comes in {' and '.join(v for _, v in have)} ({listing})."
            )
        lacking = " or ".join(v for _, v in missing)
        return f"No, the {product.title} isn't {lacking}. It lists {listing}."
    wanted = {term(w) for w in words(question) if len(w) > 3} - {term(w) for w in STOP}
    if _P.pattern("asks_material").search(question):
        wanted.add("material")
    sentences = [
        s.strip(" •") for s in re.split(r"(?<=[.!?])\s+|\n|•", product.description) if s.strip(" •")
    ]
    facts = sentences + [
        f"{k.replace('_', ' ')}: {', '.join(v)}"
        for k, v in product.attributes.items()
        if v not in (["no"],)
    ]
    scored = []
    for fact in facts:
        shared = {term(w) for w in words(fact)} & wanted
        shared |= {term(w) for w in words(fact.split(":")[0])} & wanted if ":" in fact else set()
        if shared:
            scored.append((len(shared), fact))
    if not scored:
        topic = " ".join(w for w in words(question) if term(w) in wanted) or "that"
        return f"The catalog doesn't say anything about {topic} for the {product.title}."
    best = max(n for n, _ in scored)
    quotes = [f for n, f in scored if n == best][:2]
    return f"About the {product.title}, the catalog says: " + " ".join(f'"{q}"' for q in quotes)
