"""The fact checker: every fact a reply states — a price in any currency, a colour, a size,
a quantity, a value of any of the catalog's facets (material, brand, flavour, dietary …), a
rating — must be one the catalog holds for the product it is about."""

from __future__ import annotations

import re

from pydantic import BaseModel

from base.language.general import language, phrasings
from base.language.money import find_money
from base.language.quantities import find_quantities
from base.language.text import fold, normalise, stem, words
from ranking.rank import RankedItem
from retrieval.color import basic_color
from retrieval.facets import value_matches, variant_quantities
from retrieval.lexicon import Lexicon
from retrieval.schema import Product, SearchFilters

from .understanding.words import phrase_terms

RATING = phrasings().pattern("rating")
SIZE_CLAIM = phrasings().pattern("size_claim")
EPS = 1e-6
# a clause that says the product lacks something: "nothing listed about <need>", "not <value>"
DENIED = phrasings().pattern("denied")
PERCENT_OFF = phrasings().pattern("percent_off")


class FactError(BaseModel):
    claim: str
    about: str  # the product title, or "the reply"
    reason: str


def _text(p: Product) -> str:
    return fold(
        " ".join([p.title, p.description, *(v for vs in p.attributes.values() for v in vs)])
    )


def check_reply(
    text: str, items: list[RankedItem], filters: SearchFilters, lexicon: Lexicon
) -> list[FactError]:
    """Unsupported facts in `text`. Each line is checked against the products it names
    (by title or position); a line that names none, against all of them."""
    errors: list[FactError] = []
    products = [i.product for i in items]
    lang = language()
    color_keys = lexicon.color_keys()
    excluded = {normalise(v) for vs in filters.exclude_facets.values() for v in vs}
    excluded |= {b for v in excluded if (b := basic_color(v))}
    for line in [ln for ln in re.split(r"\n|(?<=[.!?])\s+(?=[A-Z0-9\[])", text) if ln.strip()]:
        named = _named_products(line, products)
        scope = named or products
        about = ", ".join(p.title for p in named) if named else "the reply"

        def err(claim: str, reason: str, about: str = about) -> None:
            errors.append(FactError(claim=claim, about=about, reason=reason))

        body = fold(line)
        # a clause saying what the product lacks ("nothing listed about X") claims no X
        toks = words(DENIED.sub(" ", line))
        negated = {i + 1 + k for i, t in enumerate(toks) if t in lang.negators for k in range(3)}

        # prices, in the product's own currency
        allowed = {round(x, 2) for p in scope for x in (p.price, p.list_price) if x is not None}
        allowed |= {round(x, 2) for x in (filters.price_min, filters.price_max) if x is not None}
        allowed |= {round(v.price, 2) for p in scope for v in p.variants if v.price is not None}
        currencies = {p.currency for p in scope}
        for m in find_money(line):
            if m.currency and currencies and m.currency not in currencies:
                err(m.text, f"price in {m.currency}; the shop sells in {', '.join(currencies)}")
            elif round(m.amount, 2) not in allowed:
                err(m.text, "price not in the catalog")

        # colours: a colour facet's values, else the product's own words
        allowed_colors = {normalise(v) for p in scope for k in color_keys for v in p.values(k)}
        allowed_colors |= {b for v in allowed_colors if (b := basic_color(v))}
        allowed_colors |= {
            normalise(v) for k, vs in filters.facets.items() if lang.is_color_key(k) for v in vs
        }
        texts = " ".join(_text(p) for p in scope)
        for i, tok in enumerate(toks):
            basic = lang.color_of.get(tok)
            if not basic or tok in allowed_colors or basic in allowed_colors:
                continue
            if i in negated and (tok in excluded or basic in excluded):
                continue
            if re.search(rf"\b{re.escape(tok)}\b", texts):
                continue  # a colour word inside the product's own name: a product phrase
            err(tok, "colour not offered")

        # values of the catalog's facets, and materials named from general knowledge
        said = phrase_terms(DENIED.sub(" ", line))
        own_stems = {stem(t) for t in phrase_terms(texts)}
        own_values = {normalise(v) for p in scope for k in p.facet_keys() for v in p.values(k)}
        for f in lexicon.facets.values():
            if not f.constrains or f.dimension or f.color or len(f.values) < 2:
                continue
            for value in f.values:
                vt = phrase_terms(value)
                if len(value) <= 3 or not any(
                    tuple(said[i : i + len(vt)]) == vt for i in range(len(said))
                ):
                    continue
                own = [v for p in scope for v in p.values(f.key)]
                if any(value_matches(f.key, v, value) for v in own) or normalise(value) in excluded:
                    continue
                if normalise(value) in own_values:
                    continue  # its value under another facet ("16GB": RAM here, size elsewhere)
                if fold(value) in texts or {stem(t) for t in vt} <= own_stems:
                    continue  # the product's own words ("Sport" in its name for "Sports")
                err(value, f"{f.key.replace('_', ' ')} not listed")
        for i, tok in enumerate(toks):
            if (
                tok in lang.materials
                and i not in negated
                and tok not in excluded
                and not re.search(rf"\b{re.escape(tok)}", texts)
            ):
                err(tok, "material not listed")

        # sizes, quantities, ratings
        for m in SIZE_CLAIM.finditer(line):
            for size in re.findall(r"[A-Z0-9]{1,4}", m.group(1)):
                offered = {normalise(v) for p in scope for k in p.facet_keys() for v in p.values(k)}
                if normalise(size) not in offered and f"size {normalise(size)}" not in offered:
                    err(f"size {size}", "size not offered")
        for q in find_quantities(line):
            if q.dimension == "percent" and PERCENT_OFF.search(body):
                continue
            rows = [
                r for p in scope for v in p.purchasable_variants() for r in variant_quantities(p, v)
            ]
            rows += [(t.dimension, "", t.value) for t in find_quantities(texts)]  # "69cm" written
            if (
                not any(
                    d == q.dimension and abs(val - q.value) <= EPS * max(1, q.value)
                    for d, _, val in rows
                )
                and fold(q.label()) not in texts
            ):
                err(q.label(), "quantity not listed")
        for m in RATING.finditer(line):
            value = float(m.group(1))
            if not any(p.rating is not None and abs(p.rating - value) < 0.05 for p in scope):
                err(m.group(0), "rating not in the catalog")
    return errors


def _named_products(line: str, products: list[Product]) -> list[Product]:
    low = line.casefold()
    named = [p for p in products if p.title.casefold() in low]
    for m in re.finditer(r"\[(\d+)\]|^\s*(\d+)[.)]", line):
        i = int(m.group(1) or m.group(2))
        if 1 <= i <= len(products) and products[i - 1] not in named:
            named.append(products[i - 1])
    return named
