"""Product cards: what the UI shows for each suggested product, chosen here so the UI only
draws. A card shows the variant the shopper asked for (its photo, preselected in the
picker), and its facts are the ones its reason relies on, then those that matter for the
question."""

from __future__ import annotations

from pydantic import BaseModel, Field

from base.language.text import term, words
from ranking.rank import RankedItem
from retrieval.schema import Variant

from .records import DialogueState, Explanation
from .wording import item_price

FACTS_PER_CARD = 3


class ProductCard(BaseModel):
    product_id: str
    position: int  # 1-based, as the reply numbers it
    title: str
    price: float | None
    currency: str = "USD"
    list_price: float | None = None  # shown struck through when the product is on sale
    photo: str | None = None  # file in the index folder
    facts: list[str] = Field(default_factory=list)  # "<facet>: <value>, <value>"
    reason: str = ""
    rating: float | None = None
    review_count: int = 0
    available: bool = True  # False: marked out of stock, and it cannot be added to a cart
    variants: list[str] = Field(default_factory=list)  # labels of variants in stock
    variant: str | None = None  # the one to preselect: the variant the shopper asked for


def card_facts(item: RankedItem, state: DialogueState) -> list[str]:
    """Facts the question is about first (the values asked for, on the variants that have
    them), then the product's own facets that share words with the need."""
    p, f = item.product, state.filters
    shown = item.matching_variants or p.purchasable_variants()
    facts: list[str] = []
    asked = list(f.facets) + [k for q in f.quantities for k in q.keys]
    for key in dict.fromkeys(asked):
        values = list(dict.fromkeys(v for var in shown if (v := var.option(key)))) or p.values(key)
        if values:
            facts.append(f"{key.replace('_', ' ')}: {', '.join(values[:4])}")
    wanted = {term(w) for w in words(state.need)}
    said = {term(w) for c in state.categories for w in words(c)}
    keys = sorted(
        (
            k
            for k in p.facet_keys()
            if k not in asked
            and (vs := p.values(k))
            and vs != ["no"]
            and not all({term(w) for w in words(v)} <= said for v in vs)
        ),
        key=lambda k: -len({term(w) for v in p.values(k) for w in words(v)} & wanted),
    )
    for key in keys:
        if len(facts) >= FACTS_PER_CARD:
            break
        values = p.values(key)
        facts.append(
            key.replace("_", " ")
            if values == ["yes"]
            else f"{key.replace('_', ' ')}: " + ", ".join(values[:3])
        )
    return facts


def asked_variant(item: RankedItem, state: DialogueState) -> Variant | None:
    """The variant the shopper asked for, when what they said picks among the options
    ("in blue", "not yellow", "1 L"): the first matching one in stock."""
    f = state.filters
    p = item.product
    if not (f.facets or f.exclude_facets or f.quantities) or not item.matching_variants:
        return None
    if len(item.matching_variants) == len(p.purchasable_variants()):
        return None  # nothing was chosen among the options
    in_stock = [v for v in item.matching_variants if v.available]
    return (in_stock or item.matching_variants)[0]


def explained_facts(exp: Explanation | None) -> list[str]:
    """The facets the reason relies on, as the card lists them."""
    if exp is None:
        return []
    return [f.text for n in exp.used if (f := exp.fact(n)) and f.values]


def cards_for(
    items: list[RankedItem],
    reasons: list[str],
    state: DialogueState,
    photos,
    explanations: list[Explanation] | None = None,
) -> list[ProductCard]:
    """`photos(product_id, refs) -> list[Path]`: the index's copies of the product's photos,
    those of `refs` (the asked variant's images) first."""
    out = []
    exps = explanations or []
    for n, item in enumerate(items, 1):
        p = item.product
        chosen = asked_variant(item, state)
        files = photos(p.id, chosen.images if chosen else None)
        price = item_price(item)
        facts = explained_facts(exps[n - 1] if n <= len(exps) else None)
        facts += [x for x in card_facts(item, state) if x not in facts]
        out.append(
            ProductCard(
                product_id=p.id,
                position=n,
                title=p.title,
                price=price,
                currency=p.currency,
                list_price=p.list_price if (p.list_price or 0) > (price or 0) else None,
                photo=str(files[0]) if files else None,
                facts=facts[:FACTS_PER_CARD],
                reason=reasons[n - 1] if n <= len(reasons) else "",
                rating=p.rating,
                review_count=p.review_count,
                available=p.available,
                variants=[
                    v.label() for v in p.purchasable_variants() if v.available and p.available
                ],
                variant=chosen.label() if chosen and chosen.available and p.available else None,
            )
        )
    return out
