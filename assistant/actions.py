"""What a shopper does with the products shown, apart from searching: open one, add one of
its variants to the cart, compare, rate a reply; and the chat turns that act on shown items
(compare, a question about an item, "add it to my cart"). Nothing that is out of stock goes
into a cart."""

from __future__ import annotations

from base.language.text import terms
from ranking.rank import RankedItem
from retrieval.facets import matching_variants, value_matches, variant_matches, variant_values
from retrieval.kinds import kind_paths
from retrieval.schema import SearchFilters

from .cards import ProductCard, cards_for
from .feedback import ProductView
from .item_answers import answer_about, answer_about_list, compare_reply, compare_rows
from .records import (
    CartItem,
    CartQuestion,
    DialogueState,
    Reply,
    TurnInterpretation,
)
from .wording import shown_items

GREETING = "Hi! Tell me what you're looking for and I'll suggest a few products from this shop."
WHICH = "Which product do you mean? Search for something first and I'll list a few."
REDIRECT = (
    "Sorry, I can only help with shopping in this store. "
    "Tell me what you're looking for and I'll find a few products."
)


class ShopperActions:
    def __init__(self, assistant):
        """`assistant`: the `Assistant` whose sessions, index and event log these act on."""
        self.a = assistant

    # ---- from the page ---------------------------------------------------------------
    def add_variant(
        self, session: str, product_id: str, sku_or_option: str | None, reply_id: str = ""
    ) -> tuple[str, list[CartItem]]:
        """Add a product in one of its existing, available variants (by SKU or label) to the
        session's cart. Returns the confirmation and the cart."""
        product = self.a.index.product(product_id)
        if product is None:
            raise ValueError(f"no product {product_id!r} in this catalog")
        if not product.available:
            raise ValueError(f"Sorry, the {product.title} is out of stock.")
        variants = product.purchasable_variants()
        chosen = [v for v in variants if sku_or_option in (v.sku, v.label())]
        if not chosen and sku_or_option is None and len(variants) == 1:
            chosen = variants
        if not chosen:
            raise ValueError(
                f"{product.title} has no variant {sku_or_option!r}; "
                f"choose one of: {', '.join(v.label() for v in variants if v.available)}"
            )
        v = chosen[0]
        if not v.available:
            raise ValueError(f"Sorry, the {product.title} ({v.label()}) is out of stock.")
        with self.a.session_lock(session):
            state = self.a.conversations.load(session)
            state.engaged = [*[e for e in state.engaged if e != product.id], product.id]
            state.cart.append(CartItem.of(product, v))
            self.a.conversations.save(session, state)
            cart = list(state.cart)
        self.a.feedback.record(session, "cart_add", reply_id, product.id, state)
        return f"Added the {product.title} ({v.label()}) to your cart.", cart

    def open_product(self, session: str, product_id: str, reply_id: str = "") -> ProductView:
        product = self.a.index.product(product_id)
        if product is None:
            raise ValueError(f"no product {product_id!r} in this catalog")
        with self.a.session_lock(session):
            state = self.a.conversations.load(session)
            state.engaged = [*[e for e in state.engaged if e != product.id], product.id]
            self.a.conversations.save(session, state)
        self.a.feedback.record(session, "click", reply_id, product.id, state)
        return ProductView(
            product=product,
            photos=[str(p) for p in self.a.index.photo_files(product.id)],
            variants=[
                v.label()
                for v in product.purchasable_variants()
                if v.available and product.available
            ],
            related=self.a.related.of(product.id),
        )

    def compare(self, product_ids: list[str]) -> list[tuple[str, list[str]]]:
        products = [p for pid in product_ids if (p := self.a.index.product(pid))]
        if not 2 <= len(products) <= 4:
            raise ValueError("choose two to four products to compare")
        return [("product", [p.title for p in products]), *compare_rows(products)]

    def cards(self, reply: Reply) -> list[ProductCard]:
        return cards_for(
            reply.products,
            reply.reasons,
            reply.state,
            self.a.index.photo_files,
            reply.explanations,
        )

    def shown_cards(self, state: DialogueState) -> list[ProductCard]:
        """The cards of the products the conversation showed last, to draw them again (after
        a restart, or on another worker): the same products, without their reasons."""
        items = [
            i.model_copy(update={"matching_variants": matching_variants(i.product, state.filters)})
            for i in self.shown(state, list(range(1, len(state.shown) + 1)))
        ]
        return cards_for(items, [], state, self.a.index.photo_files)

    def rate_reply(self, session: str, reply_id: str, up: bool) -> None:
        self.a.feedback.record(session, "thumbs_up" if up else "thumbs_down", reply_id, None)

    # ---- chat turns that act on shown items ------------------------------------------
    def shown(self, state: DialogueState, refs: list[int]) -> list[RankedItem]:
        out = []
        for r in refs:
            if 1 <= r <= len(state.shown) and (
                p := self.a.index.product(state.shown[r - 1].product_id)
            ):
                out.append(RankedItem(product=p, score=0.0, ranker="shown"))
        return out

    def related(
        self, turn: TurnInterpretation, state: DialogueState
    ) -> tuple[str, list[RankedItem], list[str]]:
        """ "Something that goes with it" / "what else did shoppers look at": the shown
        product's neighbours, each with why (shoppers' sessions, or a similar product), as a
        new list the shopper can open, compare or add ("add the first one")."""
        items = self.shown(state, turn.references[:1] or state.focus[:1] or [1])
        if not items:
            return (
                "Which product do you mean? Search for something first and I'll list a few.",
                [],
                [],
            )
        anchor = items[0].product
        found = self.a.related.of(anchor.id)
        goes = (turn.related or "also_viewed") == "goes_with"
        neighbours = found.goes_with if goes else found.also_viewed
        chosen = [(n, p) for n in neighbours if (p := self.a.index.product(n.product_id))]
        if not chosen:
            return f"I have nothing to suggest with the {anchor.title} yet.", [], []
        out, reasons = [], []
        for n, p in chosen:
            out.append(RankedItem(product=p, score=n.score, ranker=f"related:{n.source}"))
            if n.source == "behaviour":
                did = "carted" if goes else "opened"
                reasons.append(f"{did} with the {anchor.title} in {n.sessions} shoppers' sessions")
            elif goes:
                reasons.append(f"another kind of product, close to the {anchor.title}")
            else:
                reasons.append(f"similar to the {anchor.title}")
        lead = "goes well with" if goes else "shoppers also looked at, besides"
        state.shown = shown_items(out)
        state.focus = []
        lines = [
            f"{k}. {i.product.title} — {why}" + ("" if i.product.available else " (out of stock)")
            for k, (i, why) in enumerate(zip(out, reasons, strict=True), 1)
        ]
        text = f"What {lead} the {anchor.title}:\n" + "\n".join(lines)
        return text, out, reasons

    def answer(
        self, turn: TurnInterpretation, state: DialogueState
    ) -> tuple[str, list[RankedItem]]:
        if turn.intent == "smalltalk":
            return GREETING, []
        if turn.intent == "out_of_scope":
            return REDIRECT, []
        if turn.intent == "ask_item" and turn.first_by_default and len(state.shown) > 1:
            listed = self.shown(state, list(range(1, len(state.shown) + 1)))
            about = answer_about_list([i.product for i in listed], turn.question, self.a.lexicon)
            if about is not None:  # a question about the list in view, answered for each
                text, have = about
                return text, [listed[i - 1] for i in have]
        refs = turn.references or state.focus or ([1] if state.shown else [])
        items = self.shown(state, refs)
        if not items:
            return WHICH, []
        if turn.intent == "compare":
            return compare_reply([i.product for i in items]), items
        if turn.intent == "ask_item":
            return answer_about(items[0].product, turn.question, self.a.lexicon), items[:1]
        return self._cart_from_chat(turn, state, items[0])

    def _cart_from_chat(self, turn, state: DialogueState, item: RankedItem):
        p, want = item.product, turn.cart
        if not p.available:
            return f"Sorry, the {p.title} is out of stock, so I can't add it to your cart.", [item]
        asked = dict(want.options) if want else {}
        variants = p.purchasable_variants()
        amounts = SearchFilters(quantities=want.amounts if want else [])
        match = [
            v
            for v in variants
            if all(
                any(value_matches(k, x, val) for x in variant_values(p, v, k))
                for k, val in asked.items()
            )
            and (not amounts.quantities or variant_matches(p, v, amounts))
        ]
        if not match:
            options = ", ".join(sorted({v.label() for v in variants}))
            said = [*asked.values(), *(q.label for q in amounts.quantities)]
            return (
                f"The {p.title} doesn't come in {' / '.join(said)}. It comes in: {options}.",
                [item],
            )
        # an option that varies and was not chosen: ask, unless the shopper's filters choose it
        chosen = [v for v in match if v.available] or match
        preferred = [v for v in chosen if _fits(p, v, state)] or chosen
        varying = [
            k
            for k in (preferred[0].options if preferred else {})
            if len({v.option(k) for v in preferred}) > 1 and k not in asked
        ]
        if varying:
            key = varying[0]
            values = list(dict.fromkeys(v.option(key) for v in preferred if v.option(key)))
            state.cart_question = _question(p, item, state, key, asked)
            return (
                f"Which {key} would you like for the {p.title}? It comes in {', '.join(values)}.",
                [item],
            )
        v = preferred[0]
        if not v.available:
            return f"Sorry, the {p.title} ({v.label()}) is out of stock.", [item]
        state.cart.append(CartItem.of(p, v, want.quantity if want else 1))
        detail = f" ({v.label()})" if v.options else ""
        return f"Added the {p.title}{detail} to your cart.", [item]


def _question(product, item, state: DialogueState, key: str, chosen: dict) -> CartQuestion:
    """What the next turn may answer: any option of the product's available variants."""
    options: dict[str, list[str]] = {}
    for v in product.purchasable_variants():
        if v.available:
            for k, value in v.options.items():
                if value and value not in options.setdefault(k, []):
                    options[k].append(value)
    at = [n for n, s in enumerate(state.shown, 1) if s.product_id == product.id]
    names = {t for k in options for t in terms(k)}
    names |= {t for path in kind_paths(product) for t in terms(path.replace("/", " "))}
    return CartQuestion(
        names=sorted(names),
        position=at[0] if at else 1,
        product_id=product.id,
        key=key,
        options=options,
        chosen=dict(chosen),
    )


def _fits(product, variant, state: DialogueState) -> bool:
    """The variant meets the facet values the shopper asked for (never an excluded one)."""
    f = state.filters.model_copy(
        update={
            "price_min": None,
            "price_max": None,
            "quantities": [],
        }
    )
    return variant_matches(product, variant, f)
