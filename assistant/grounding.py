"""The fact checker: every fact a reply states — a price in any currency, a colour, a size,
a quantity, a value of any of the catalog's facets (material, brand, flavour, dietary …), a
rating — must be one the catalog holds for the product it is about."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

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
    products = [i.product for i in items]
    excluded = {normalise(v) for vs in filters.exclude_facets.values() for v in vs}
    excluded |= {b for v in excluded if (b := basic_color(v))}
    errors: list[FactError] = []
    for line in [ln for ln in re.split(r"\n|(?<=[.!?])\s+(?=[A-Z0-9\[])", text) if ln.strip()]:
        c = _Line.of(line, products, filters, lexicon, excluded)
        for check in CHECKS:
            errors += [FactError(claim=k, about=c.about, reason=r) for k, r in check(c)]
    return errors


@dataclass
class _Line:
    """One line of a reply and what it is checked against."""

    line: str
    scope: list[Product]  # the products it names, or all of them
    about: str
    toks: list[str]  # its words, a clause saying what a product lacks left out
    negated: set[int]  # word positions a negator reaches
    texts: str  # the scope's own words, folded
    filters: SearchFilters
    lexicon: Lexicon
    excluded: set[str]  # values the shopper excluded (and their basic colours)

    @classmethod
    def of(cls, line, products, filters, lexicon, excluded) -> _Line:
        named = _named_products(line, products)
        # a clause saying what the product lacks ("nothing listed about X") claims no X
        toks = words(DENIED.sub(" ", line))
        negators = language().negators
        negated = {i + 1 + k for i, t in enumerate(toks) if t in negators for k in range(3)}
        scope = named or products
        return cls(
            line=line,
            scope=scope,
            about=", ".join(p.title for p in named) if named else "the reply",
            toks=toks,
            negated=negated,
            texts=" ".join(_text(p) for p in scope),
            filters=filters,
            lexicon=lexicon,
            excluded=excluded,
        )


Claims = Iterator[tuple[str, str]]  # (what the line says, why it is unsupported)


def _prices(c: _Line) -> Claims:
    """Prices, in the products' own currency."""
    f, scope = c.filters, c.scope
    allowed = {round(x, 2) for p in scope for x in (p.price, p.list_price) if x is not None}
    allowed |= {round(x, 2) for x in (f.price_min, f.price_max) if x is not None}
    allowed |= {round(v.price, 2) for p in scope for v in p.variants if v.price is not None}
    currencies = {p.currency for p in scope}
    for m in find_money(c.line):
        if m.currency and currencies and m.currency not in currencies:
            yield m.text, f"price in {m.currency}; the shop sells in {', '.join(currencies)}"
        elif round(m.amount, 2) not in allowed:
            yield m.text, "price not in the catalog"


def _colors(c: _Line) -> Claims:
    """Colours: a colour facet's values, else the products' own words."""
    lang = language()
    allowed = {normalise(v) for p in c.scope for k in c.lexicon.color_keys() for v in p.values(k)}
    allowed |= {b for v in allowed if (b := basic_color(v))}
    allowed |= {
        normalise(v) for k, vs in c.filters.facets.items() if lang.is_color_key(k) for v in vs
    }
    for i, tok in enumerate(c.toks):
        basic = lang.color_of.get(tok)
        if not basic or tok in allowed or basic in allowed:
            continue
        if i in c.negated and (tok in c.excluded or basic in c.excluded):
            continue
        if re.search(rf"\b{re.escape(tok)}\b", c.texts):
            continue  # a colour word inside the product's own name: a product phrase
        yield tok, "colour not offered"


def _facet_values(c: _Line) -> Claims:
    """Values of the catalog's facets the line gives a product that does not have them."""
    said = phrase_terms(DENIED.sub(" ", c.line))
    own_stems = {stem(t) for t in phrase_terms(c.texts)}
    own_values = {normalise(v) for p in c.scope for k in p.facet_keys() for v in p.values(k)}
    for f in c.lexicon.facets.values():
        if not f.constrains or f.dimension or f.color or len(f.values) < 2:
            continue
        for value in f.values:
            vt = phrase_terms(value)
            if len(value) <= 3 or not any(
                tuple(said[i : i + len(vt)]) == vt for i in range(len(said))
            ):
                continue
            own = [v for p in c.scope for v in p.values(f.key)]
            if any(value_matches(f.key, v, value) for v in own) or normalise(value) in c.excluded:
                continue
            if normalise(value) in own_values:
                continue  # its value under another facet ("16GB": RAM here, size elsewhere)
            if fold(value) in c.texts or {stem(t) for t in vt} <= own_stems:
                continue  # the product's own words ("Sport" in its name for "Sports")
            yield value, f"{f.key.replace('_', ' ')} not listed"


def _materials(c: _Line) -> Claims:
    """Materials named from general knowledge that the products do not list."""
    for i, tok in enumerate(c.toks):
        if (
            tok in language().materials
            and i not in c.negated
            and tok not in c.excluded
            and not re.search(rf"\b{re.escape(tok)}", c.texts)
        ):
            yield tok, "material not listed"


def _sizes(c: _Line) -> Claims:
    for m in SIZE_CLAIM.finditer(c.line):
        for size in re.findall(r"[A-Z0-9]{1,4}", m.group(1)):
            offered = {normalise(v) for p in c.scope for k in p.facet_keys() for v in p.values(k)}
            if normalise(size) not in offered and f"size {normalise(size)}" not in offered:
                yield f"size {size}", "size not offered"


def _quantities(c: _Line) -> Claims:
    body = fold(c.line)
    for q in find_quantities(c.line):
        if q.dimension == "percent" and PERCENT_OFF.search(body):
            continue
        rows = [
            r for p in c.scope for v in p.purchasable_variants() for r in variant_quantities(p, v)
        ]
        rows += [(t.dimension, "", t.value) for t in find_quantities(c.texts)]  # "69cm" written
        if (
            not any(
                d == q.dimension and abs(val - q.value) <= EPS * max(1, q.value)
                for d, _, val in rows
            )
            and fold(q.label()) not in c.texts
        ):
            yield q.label(), "quantity not listed"


def _ratings(c: _Line) -> Claims:
    for m in RATING.finditer(c.line):
        value = float(m.group(1))
        if not any(p.rating is not None and abs(p.rating - value) < 0.05 for p in c.scope):
            yield m.group(0), "rating not in the catalog"


CHECKS: tuple[Callable[[_Line], Claims], ...] = (
    _prices,
    _colors,
    _facet_values,
    _materials,
    _sizes,
    _quantities,
    _ratings,
)


def _named_products(line: str, products: list[Product]) -> list[Product]:
    low = line.casefold()
    named = [p for p in products if p.title.casefold() in low]
    for m in re.finditer(r"\[(\d+)\]|^\s*(\d+)[.)]", line):
        i = int(m.group(1) or m.group(2))
        if 1 <= i <= len(products) and products[i - 1] not in named:
            named.append(products[i - 1])
    return named
