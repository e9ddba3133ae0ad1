"""Product facts for the LLM, and the checker that every fact a reply states — price,
colour, size, material, rating — is one the catalog holds for the product it is about."""

from __future__ import annotations

import re

from pydantic import BaseModel

from ranking.rank import RankedItem
from retrieval.color import basic_color
from retrieval.schema import Product, SearchFilters, normalise

from .vocabulary import Vocabulary, words

MONEY = re.compile(
    r"\$\s*(\d+(?:,\d{3})*(?:\.\d{1,2})?)|(\d+(?:\.\d{1,2})?)\s*(?:dollars|usd)\b", re.I
)
RATING = re.compile(r"(\d(?:\.\d+)?)\s*(?:/\s*5|out of 5|stars?)", re.I)
SIZE_CLAIM = re.compile(r"\bsizes?\s+((?:[A-Z0-9]{1,3}(?:,\s*|\s+(?:and|or)\s+|\s*/\s*)?)+)")


# Materials an LLM may name even when this catalog never does (general knowledge).
COMMON_MATERIALS = frozenset(
    "wool merino cotton leather suede silk linen polyester nylon spandex elastane lycra fleece "
    "cashmere denim down feather gore-tex rubber canvas bamboo hemp acrylic rayon viscose "
    "neoprene mesh".split()
)


class ProductFacts(BaseModel):
    position: int
    id: str
    title: str
    price: float | None
    regular_price: float | None
    category: str
    colors: list[str]
    sizes: list[str]
    attributes: dict[str, list[str]]
    rating: float | None
    review_count: int
    highlights: list[str]  # description bullet points and first sentence


def facts_of(item: RankedItem, position: int) -> ProductFacts:
    p = item.product
    colors = [v.color for v in item.matching_variants if v.color] or p.colors
    sizes = [v.size for v in item.matching_variants if v.size] or p.sizes
    bullets = [b.strip() for b in p.description.split("•")[1:] if b.strip()]
    first = re.split(r"(?<=[.!?])\s", p.description.split("•")[0].strip(), maxsplit=1)[0]
    return ProductFacts(
        position=position,
        id=p.id,
        title=p.title,
        price=p.price,
        regular_price=p.list_price,
        category=p.category,
        colors=list(dict.fromkeys(colors)),
        sizes=list(dict.fromkeys(sizes)),
        attributes={k: v for k, v in p.attributes.items() if v not in (["no"],)},
        rating=p.rating,
        review_count=p.review_count,
        highlights=[h[:160] for h in [first, *bullets] if h][:6],
    )


class FactError(BaseModel):
    claim: str
    about: str  # the product title, or "the reply"
    reason: str


def check_reply(
    text: str, items: list[RankedItem], filters: SearchFilters, vocab: Vocabulary
) -> list[FactError]:
    """Unsupported facts in `text`. Each line is checked against the products it names
    (by title or position); a line that names none, against all of them."""
    errors: list[FactError] = []
    products = [i.product for i in items]
    for line in [ln for ln in re.split(r"\n|(?<=[.!?])\s+(?=[A-Z0-9])", text) if ln.strip()]:
        named = _named_products(line, products)
        scope = named or products
        about = ", ".join(p.title for p in named) if named else "the reply"
        allowed_prices = {
            round(x, 2) for p in scope for x in (p.price, p.list_price) if x is not None
        }
        allowed_prices |= {
            round(x, 2) for x in (filters.price_min, filters.price_max) if x is not None
        }
        allowed_prices |= {
            round(v.price, 2) for p in scope for v in p.variants if v.price is not None
        }
        for m in MONEY.finditer(line):
            value = float((m.group(1) or m.group(2)).replace(",", ""))
            if round(value, 2) not in allowed_prices:
                errors.append(
                    FactError(claim=m.group(0), about=about, reason="price not in the catalog")
                )
        allowed_colors = {normalise(c) for p in scope for c in p.colors}
        allowed_colors |= {normalise(c) for c in filters.colors}
        allowed_colors |= {basic_color(c) for c in allowed_colors} - {None}
        excluded = {normalise(c) for c in filters.exclude_colors}
        excluded |= {basic_color(c) for c in excluded} - {None}
        toks = words(line)
        for i, tok in enumerate(toks):
            color = vocab.color(tok)
            if not color or normalise(color) in allowed_colors or tok in allowed_colors:
                continue
            negated = {"not", "no", "except", "without", "but"} & set(toks[max(0, i - 3) : i])
            if not (negated and (tok in excluded or normalise(color) in excluded)):
                errors.append(FactError(claim=tok, about=about, reason="colour not offered"))
        departments = {p.category.split("/")[0].casefold() for p in scope if p.category}
        for tok in toks:
            dept = vocab.department(tok)
            if dept and departments & set(vocab.departments) and dept not in departments:
                errors.append(FactError(claim=tok, about=about, reason="not in that department"))
        materials = {normalise(x) for p in scope for x in p.attributes.get("material", [])}
        descriptions = " ".join(p.description.casefold() for p in scope)
        excluded_materials = {
            normalise(x) for vs in filters.exclude_attributes.values() for x in vs
        }
        for tok in toks:
            named = [v for k, v in vocab.attribute(tok) if k == "material"]
            if tok in COMMON_MATERIALS and tok not in named:
                named.append(tok)
            for value in named:
                if (
                    value not in materials
                    and value not in descriptions
                    and value not in excluded_materials
                ):
                    errors.append(FactError(claim=tok, about=about, reason="material not listed"))
        for m in SIZE_CLAIM.finditer(line):
            for size in re.findall(r"[A-Z0-9]{1,3}", m.group(1)):
                if not any(size in p.sizes for p in scope):
                    errors.append(
                        FactError(claim=f"size {size}", about=about, reason="size not offered")
                    )
        for m in RATING.finditer(line):
            value = float(m.group(1))
            if not any(p.rating is not None and abs(p.rating - value) < 0.05 for p in scope):
                errors.append(
                    FactError(claim=m.group(0), about=about, reason="rating not in the catalog")
                )
    return errors


def _named_products(line: str, products: list[Product]) -> list[Product]:
    low = line.casefold()
    named = [p for p in products if p.title.casefold() in low]
    for m in re.finditer(r"\[(\d+)\]|^\s*(\d+)[.)]", line):
        i = int(m.group(1) or m.group(2))
        if 1 <= i <= len(products) and products[i - 1] not in named:
            named.append(products[i - 1])
    return named
