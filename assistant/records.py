"""Typed records of the dialogue engine."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from ranking.rank import RankedItem
from retrieval.schema import Product, QuantityFilter, SearchFilters, Variant

Intent = Literal[
    "search",
    "refine",
    "compare",
    "ask_item",
    "cart",
    "related",  # what goes with a shown product, or what shoppers also looked at
    "clarify_answer",
    "smalltalk",
    "out_of_scope",
]
INTENTS: tuple[str, ...] = Intent.__args__  # type: ignore[attr-defined]
# Slot names a turn can drop by name ("any colour is fine", "forget the brand"), besides the
# catalog's own facet names ("material", "brand", "screen size").
REMOVABLE = ("price", "category", "all")


class ConstraintSet(BaseModel):
    """Hard constraints stated in one turn; each replaces the same slot in the state."""

    price_min: float | None = None
    price_max: float | None = None
    price_min_strict: bool = False
    price_max_strict: bool = False
    categories: list[str] = Field(default_factory=list)  # category segments named
    exclude_categories: list[str] = Field(default_factory=list)
    facets: dict[str, list[str]] = Field(default_factory=dict)  # catalog key → values
    exclude_facets: dict[str, list[str]] = Field(default_factory=dict)
    quantities: list[QuantityFilter] = Field(default_factory=list)
    # chip keys ("facet:<key>=<value>") the shopper stated outright: the facet named ("brand
    # <value>"), a size said as a size; the rest were read from words (assistant/evidence.py)
    explicit: list[str] = Field(default_factory=list)

    def slots(self) -> set[tuple[str, str]]:
        """(slot, value) pairs, the unit the NLU evaluation counts."""
        out: set[tuple[str, str]] = set()
        for bound in ("price_min", "price_max"):
            value = getattr(self, bound)
            if value is not None:
                out.add((bound, f"{value:g}"))
                if getattr(self, f"{bound}_strict"):
                    out.add((f"{bound}_strict", "true"))
        for name in ("categories", "exclude_categories"):
            out |= {(name, v.casefold()) for v in getattr(self, name)}
        for name in ("facets", "exclude_facets"):
            for key, values in getattr(self, name).items():
                out |= {(f"{name}.{key.casefold()}", v.casefold()) for v in values}
        out |= {(f"quantities.{q.dimension}", q.label.casefold()) for q in self.quantities}
        return out

    def is_empty(self) -> bool:
        return not self.slots()


class CartRequest(BaseModel):
    reference: int | None = None  # 1-based position among the items shown
    options: dict[str, str] = Field(default_factory=dict)  # catalog key → value ("size": "M")
    # options named by an amount ("in <n> <unit>"): the variant whose option holds it
    amounts: list[QuantityFilter] = Field(default_factory=list)
    quantity: int = Field(1, ge=1, le=20)


class TurnInterpretation(BaseModel):
    intent: Intent
    need: str = ""  # what to look for, in the shopper's words, minus the hard constraints
    constraints: ConstraintSet = Field(default_factory=ConstraintSet)
    remove: list[str] = Field(default_factory=list)  # REMOVABLE or a catalog facet name
    references: list[int] = Field(default_factory=list)  # 1-based positions of shown items
    # the first shown stood in: no product was named or in focus ("does it come in red?"
    # after a list may be about every listed product)
    first_by_default: bool = False
    relative_price: Literal["cheaper", "pricier"] | None = None
    new_topic: bool = False
    question: str = ""  # for ask_item: what is asked about the item
    cart: CartRequest | None = None
    related: Literal["goes_with", "also_viewed"] | None = None  # for intent "related"
    colors: list[str] = Field(default_factory=list)  # basic colours to look for in photos
    # negated words that are no facet value or kind ("without straw"): rank products down
    # whose facts mention them, up those whose facts say they lack them (evidence.shun)
    avoid: list[str] = Field(default_factory=list)
    unsold: list[str] = Field(default_factory=list)  # kinds asked for that the shop lacks
    not_understood: list[str] = Field(default_factory=list)  # words neither reader knew
    notes: list[str] = Field(default_factory=list)  # e.g. "prices here are in EUR"
    source: str = "rules"  # rules | llm | llm+rules
    certain: bool = False  # the rules accounted for every word: no LLM needed

    def slots(self) -> set[tuple[str, str]]:
        out = self.constraints.slots()
        out |= {("remove", r.casefold()) for r in self.remove}
        out |= {("references", str(r)) for r in self.references}
        if self.relative_price:
            out.add(("relative_price", self.relative_price))
        if self.cart:
            out |= {(f"cart.{k.casefold()}", v.casefold()) for k, v in self.cart.options.items()}
        return out


class CartItem(BaseModel):
    product_id: str
    title: str
    sku: str | None = None
    options: dict[str, str] = Field(default_factory=dict)
    price: float | None = None
    currency: str = "USD"
    quantity: int = 1

    @classmethod
    def of(cls, product: Product, variant: Variant, quantity: int = 1) -> CartItem:
        return cls(
            product_id=product.id,
            title=product.title,
            sku=variant.sku,
            options=dict(variant.options),
            price=product.variant_price(variant),
            currency=product.currency,
            quantity=quantity,
        )

    @property
    def label(self) -> str:
        return " / ".join(self.options.values())


class CartQuestion(BaseModel):
    """The cart asked which option of a shown product the shopper wants."""

    position: int  # 1-based, among the items shown
    product_id: str
    key: str  # the option asked about
    options: dict[str, list[str]]  # every option of its available variants → values
    chosen: dict[str, str] = Field(default_factory=dict)  # options already given
    # word keys of its option names and its own kinds: "RAM 16GB", "the monitor in 27 inch"
    # name the product and the option, not a category to search
    names: list[str] = Field(default_factory=list)


class ShownItem(BaseModel):
    product_id: str
    title: str
    price: float | None
    category: str
    available: bool = True


class DialogueState(BaseModel):
    filters: SearchFilters = Field(default_factory=SearchFilters)  # categories composed below
    categories: list[str] = Field(default_factory=list)  # segments named: top-level ones and kinds
    need: str = ""
    shown: list[ShownItem] = Field(default_factory=list)
    focus: list[int] = Field(default_factory=list)  # positions the last turn referred to
    cart: list[CartItem] = Field(default_factory=list)
    asked: list[str] = Field(default_factory=list)  # facets a clarifying question asked about
    asked_at: int = -1  # the turn that asked the last one
    engaged: list[str] = Field(default_factory=list)  # product ids opened or carted: taste
    shown_reply: str = ""  # the reply that showed `shown` (feedback on them refers to it)
    cart_question: CartQuestion | None = None  # asked last turn: its answer goes to the cart
    turns: int = 0
    explicit: list[str] = Field(default_factory=list)  # chip keys stated outright (evidence.py)
    avoid: list[str] = Field(default_factory=list)  # what the products should lack
    soft: list[str] = Field(default_factory=list)  # chip keys that only re-ranked the last reply


class Chip(BaseModel):
    """One understood constraint, as the shopper sees and removes it."""

    key: str  # "slot:value", what `Assistant.drop_constraint` removes
    label: str  # "under <price>", "not <value>", "<kind>"
    soft: bool = False  # read from a word, it re-ranked this reply but did not filter it


class Fact(BaseModel):
    """One numbered catalog fact of a product."""

    n: int  # 1-based, as the prompt numbers it
    key: str  # a facet key, or "price", "name", "description", "rating"
    text: str  # as it is shown: "climate: Cool, Windy", or the sentence itself
    values: list[str] = Field(default_factory=list)  # a facet's values


class Need(BaseModel):
    """Something the shopper asked for: a value the filters enforce, or a word of the need."""

    label: str  # as a reason names it: "Blue", "vegan", "under €4", "warm"
    kind: str  # "value", "quantity", "price", "word"
    key: str = ""  # the facet a value or quantity is about
    values: list[str] = Field(default_factory=list)


class Explanation(BaseModel):
    """Why one shown product fits: its numbered facts, the needs each fact meets, the need
    words no fact speaks to, and the reason as written from them (assistant/explain.py)."""

    product_id: str
    facts: list[Fact]
    met: dict[str, list[int]] = Field(default_factory=dict)  # need label → fact numbers
    missing: list[str] = Field(default_factory=list)  # need words no fact speaks to
    extra: list[int] = Field(default_factory=list)  # a fact said of it beyond the needs
    text: str = ""

    @property
    def used(self) -> list[int]:
        return list(dict.fromkeys([*(n for ns in self.met.values() for n in ns), *self.extra]))

    def fact(self, n: int) -> Fact | None:
        return next((f for f in self.facts if f.n == n), None)


class CompareRow(BaseModel):
    name: str  # "price", a facet's name
    values: list[str]  # one per product, as the catalog writes it


class CompareTable(BaseModel):
    """A side-by-side comparison of shown products, rows where they differ first."""

    title: str
    columns: list[str]  # product titles
    rows: list[CompareRow]
    note: str = ""  # "The <title> is the least expensive."


class Reply(BaseModel):
    text: str
    intent: str
    reply_id: str = ""  # feedback (thumbs, clicks, cart adds) refers to it
    products: list[RankedItem] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list)  # one line per product, same order
    explanations: list[Explanation] = Field(default_factory=list)  # needs met, facts used
    reasons_by_llm: bool = False  # the LLM wrote the reasons (else the catalog realiser)
    table: CompareTable | None = None  # a comparison, for a page to draw as a table
    chips: list[Chip] = Field(default_factory=list)
    # what the products were chosen by: the state's filters less its soft values (None: the
    # state's filters, or no search); products marked `fill` lie outside it, said so
    filters: SearchFilters | None = None
    state: DialogueState
    interpretation: TurnInterpretation
    notes: list[str] = Field(default_factory=list)  # e.g. "LLM unavailable: replied from facts"
    read_by_llm: bool = False  # the rules were unsure and the LLM read the turn
    llm_invented: int = 0  # values the LLM gave that the shopper never said (dropped)
    grounded: bool = True  # every checked fact in `text` is in the catalog
    timings_ms: dict[str, float] = Field(default_factory=dict)
