"""Product cards: what the UI shows for each suggested product, chosen here so the UI only
draws. The facts on a card are the ones that matter for the shopper's question."""

from __future__ import annotations

from pydantic import BaseModel, Field

from ranking.rank import RankedItem

from .feedback import variant_label
from .records import DialogueState
from .vocabulary import singular, words

FACTS_PER_CARD = 3


class ProductCard(BaseModel):
    product_id: str
    position: int  # 1-based, as the reply numbers it
    title: str
    price: float | None
    list_price: float | None = None  # shown struck through when the product is on sale
    photo: str | None = None  # file in the index folder
    facts: list[str] = Field(default_factory=list)  # "colours: Blue, Black", "material: Wool"
    reason: str = ""
    rating: float | None = None
    review_count: int = 0
    variants: list[str] = Field(default_factory=list)  # labels of variants in stock


def card_facts(item: RankedItem, state: DialogueState) -> list[str]:
    """Facts the question is about first (the colours and sizes asked for, attributes sharing
    words with the need), then the product's own distinguishing attributes."""
    p, f = item.product, state.filters
    shown = item.matching_variants or p.purchasable_variants()
    facts: list[str] = []
    colors = list(dict.fromkeys(v.color for v in shown if v.color))
    if colors:
        facts.append(("in " if f.colors else "colours: ") + ", ".join(colors[:4]))
    if f.sizes:
        sizes = list(dict.fromkeys(v.size for v in shown if v.size and v.available))
        facts.append("sizes in stock: " + ", ".join(sizes[:6]))
    wanted = {singular(w) for w in words(state.need)}
    # "department: Women" on every card of a search for women's jackets tells nothing
    said = {singular(w) for v in [*state.departments, *state.kinds] for w in words(v)}
    keys = sorted(
        (
            k
            for k, vs in p.attributes.items()
            if vs
            and vs != ["no"]
            and k not in ("color", "size")
            and not all({singular(w) for w in words(v)} <= said for v in vs)
        ),
        key=lambda k: -len({singular(w) for v in p.attributes[k] for w in words(v)} & wanted),
    )
    for key in keys:
        if len(facts) >= FACTS_PER_CARD:
            break
        values = p.attributes[key]
        facts.append(
            key.replace("_", " ")
            if values == ["yes"]
            else f"{key.replace('_', ' ')}: " + ", ".join(values[:3])
        )
    return facts


def cards_for(
    items: list[RankedItem], reasons: list[str], state: DialogueState, photos
) -> list[ProductCard]:
    """`photos(product_id) -> list[Path]`: the index's copies of the product's photos."""
    out = []
    for n, item in enumerate(items, 1):
        p = item.product
        files = photos(p.id)
        out.append(
            ProductCard(
                product_id=p.id,
                position=n,
                title=p.title,
                price=p.price,
                list_price=p.list_price if (p.list_price or 0) > (p.price or 0) else None,
                photo=str(files[0]) if files else None,
                facts=card_facts(item, state),
                reason=reasons[n - 1] if n <= len(reasons) else "",
                rating=p.rating,
                review_count=p.review_count,
                variants=[variant_label(v) for v in p.purchasable_variants() if v.available],
            )
        )
    return out
