"""What a shopper does on the page with the products shown, apart from chatting: open one,
add one of its variants to the cart, compare, rate a reply, draw the cards again. Nothing
that is out of stock goes into a cart. (The chat turns that act on the products shown are
in on_shown.py.)"""

from __future__ import annotations

from retrieval.facets import matching_variants

from .cards import ProductCard, cards_for
from .feedback import ProductView
from .item_answers import compare_rows
from .on_shown import shown
from .parts import LiveParts
from .records import CartItem, DialogueState, Reply


class ShopperActions:
    def __init__(self, live: LiveParts):
        """`live`: the parts of the live index generation (its sessions, index, event log)."""
        self.live = live

    def add_variant(
        self, session: str, product_id: str, sku_or_option: str | None, reply_id: str = ""
    ) -> tuple[str, list[CartItem]]:
        """Add a product in one of its existing, available variants (by SKU or label) to the
        session's cart. Returns the confirmation and the cart."""
        with self.live.turn() as parts:  # the live generation, whatever ingests ran since
            return self._add_variant(parts, session, product_id, sku_or_option, reply_id)

    def _add_variant(self, parts, session, product_id, sku_or_option, reply_id):
        product = parts.index.product(product_id)
        if product is None:
            raise ValueError(f"no product {product_id!r} in this catalog")
        if not product.visible:  # a bundle's component: never shown, so never carted alone
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
        with parts.conversations.lock(session):
            state = parts.conversations.load(session)
            state.engaged = [*[e for e in state.engaged if e != product.id], product.id]
            state.cart.append(CartItem.of(product, v))
            parts.conversations.save(session, state)
            cart = list(state.cart)
        parts.feedback.record(session, "cart_add", reply_id, product.id, state)
        return f"Added the {product.title} ({v.label()}) to your cart.", cart

    def open_product(self, session: str, product_id: str, reply_id: str = "") -> ProductView:
        with self.live.turn() as parts:  # the live generation, whatever ingests ran since
            return self._open_product(parts, session, product_id, reply_id)

    def _open_product(self, parts, session: str, product_id: str, reply_id: str) -> ProductView:
        product = parts.index.product(product_id)
        if product is None:
            raise ValueError(f"no product {product_id!r} in this catalog")
        with parts.conversations.lock(session):
            state = parts.conversations.load(session)
            state.engaged = [*[e for e in state.engaged if e != product.id], product.id]
            parts.conversations.save(session, state)
        parts.feedback.record(session, "click", reply_id, product.id, state)
        return ProductView(
            product=product,
            photos=[str(p) for p in parts.index.photo_files(product.id)],
            variants=[
                v.label()
                for v in product.purchasable_variants()
                if v.available and product.available
            ],
            related=parts.related.of(parts.index, product.id),
        )

    def compare(self, product_ids: list[str]) -> list[tuple[str, list[str]]]:
        products = [p for pid in product_ids if (p := self.live.parts.index.product(pid))]
        if not 2 <= len(products) <= 4:
            raise ValueError("choose two to four products to compare")
        return [("product", [p.title for p in products]), *compare_rows(products)]

    def cards(self, reply: Reply) -> list[ProductCard]:
        return cards_for(
            reply.products,
            reply.reasons,
            reply.state,
            self.live.parts.index.photo_files,
            reply.explanations,
        )

    def shown_cards(self, state: DialogueState) -> list[ProductCard]:
        """The cards of the products the conversation showed last, to draw them again (after
        a restart, or on another worker): the same products, without their reasons."""
        index = self.live.parts.index
        items = [
            i.model_copy(update={"matching_variants": matching_variants(i.product, state.filters)})
            for i in shown(index, state, list(range(1, len(state.shown) + 1)))
        ]
        return cards_for(items, [], state, index.photo_files)

    def rate_reply(self, session: str, reply_id: str, up: bool) -> None:
        verdict = "thumbs_up" if up else "thumbs_down"
        self.live.parts.feedback.record(session, verdict, reply_id, None)
