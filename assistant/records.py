"""Typed records of the dialogue engine."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from ranking.rank import RankedItem
from retrieval.schema import Product, SearchFilters, Variant

Intent = Literal[
    "search",
    "refine",
    "compare",
    "ask_item",
    "cart",
    "clarify_answer",
    "smalltalk",
    "out_of_scope",
]
INTENTS: tuple[str, ...] = Intent.__args__  # type: ignore[attr-defined]
# Slots whose values can be removed by name ("any colour is fine").
REMOVABLE = ("price", "color", "size", "category", "material", "all")


class ConstraintSet(BaseModel):
    """Hard constraints stated in one turn; each replaces the same slot in the state."""

    price_min: float | None = None
    price_max: float | None = None
    categories: list[str] = Field(default_factory=list)
    colors: list[str] = Field(default_factory=list)
    sizes: list[str] = Field(default_factory=list)
    exclude_colors: list[str] = Field(default_factory=list)
    exclude_categories: list[str] = Field(default_factory=list)
    exclude_attributes: dict[str, list[str]] = Field(default_factory=dict)

    def slots(self) -> set[tuple[str, str]]:
        """(slot, value) pairs, the unit the NLU evaluation counts."""
        out: set[tuple[str, str]] = set()
        for name, value in self:
            if isinstance(value, float):
                out.add((name, f"{value:g}"))
            elif isinstance(value, list):
                out |= {(name, v.casefold()) for v in value}
            elif isinstance(value, dict):
                out |= {(f"{name}.{k}", v.casefold()) for k, vs in value.items() for v in vs}
        return out


class CartRequest(BaseModel):
    reference: int | None = None  # 1-based position among the items shown
    size: str | None = None
    color: str | None = None
    quantity: int = Field(1, ge=1, le=20)


class TurnInterpretation(BaseModel):
    intent: Intent
    need: str = ""  # what to look for, in the shopper's words, minus the hard constraints
    constraints: ConstraintSet = Field(default_factory=ConstraintSet)
    remove: list[str] = Field(default_factory=list)  # names from REMOVABLE
    references: list[int] = Field(default_factory=list)  # 1-based positions of shown items
    relative_price: Literal["cheaper", "pricier"] | None = None
    new_topic: bool = False
    question: str = ""  # for ask_item: what is asked about the item
    cart: CartRequest | None = None
    source: str = "rules"  # rules | llm | llm+rules
    certain: bool = False  # the rules accounted for every word: no LLM needed

    def slots(self) -> set[tuple[str, str]]:
        out = self.constraints.slots()
        out |= {("remove", r) for r in self.remove}
        out |= {("references", str(r)) for r in self.references}
        if self.relative_price:
            out.add(("relative_price", self.relative_price))
        if self.cart and self.cart.size:
            out.add(("cart.size", self.cart.size.casefold()))
        return out


class CartItem(BaseModel):
    product_id: str
    title: str
    sku: str | None = None
    color: str | None = None
    size: str | None = None
    price: float | None = None
    quantity: int = 1

    @classmethod
    def of(cls, product: Product, variant: Variant, quantity: int = 1) -> CartItem:
        return cls(
            product_id=product.id,
            title=product.title,
            sku=variant.sku,
            color=variant.color,
            size=variant.size,
            price=variant.price or product.price,
            quantity=quantity,
        )


class ShownItem(BaseModel):
    product_id: str
    title: str
    price: float | None
    category: str


class DialogueState(BaseModel):
    filters: SearchFilters = Field(default_factory=SearchFilters)  # categories composed below
    departments: list[str] = Field(default_factory=list)  # "women"
    kinds: list[str] = Field(default_factory=list)  # "jackets"
    need: str = ""
    shown: list[ShownItem] = Field(default_factory=list)
    focus: list[int] = Field(default_factory=list)  # positions the last turn referred to
    cart: list[CartItem] = Field(default_factory=list)
    asked: list[str] = Field(default_factory=list)  # clarifying questions already asked
    engaged: list[str] = Field(default_factory=list)  # product ids opened or carted: taste
    turns: int = 0


class Chip(BaseModel):
    """One understood constraint, as the shopper sees and removes it."""

    key: str  # "slot:value", what `Assistant.drop_constraint` removes
    label: str  # "under $80", "not yellow", "jackets"


class Reply(BaseModel):
    text: str
    intent: str
    reply_id: str = ""  # feedback (thumbs, clicks, cart adds) refers to it
    products: list[RankedItem] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list)  # one line per product, same order
    chips: list[Chip] = Field(default_factory=list)
    state: DialogueState
    interpretation: TurnInterpretation
    notes: list[str] = Field(default_factory=list)  # e.g. "LLM unavailable: replied from facts"
    grounded: bool = True  # every checked fact in `text` is in the catalog
    timings_ms: dict[str, float] = Field(default_factory=dict)
