"""One turn of the conversation, as in DESIGN.md:
interpret → update the dialogue state → search → rank → respond."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable

from ranking.model import load_ranker
from ranking.rank import RankedItem
from retrieval.index import ProductIndex
from retrieval.models import resolve_device
from retrieval.schema import SearchRequest
from retrieval.search import HybridSearcher

from .cards import ProductCard, cards_for
from .chips import chips_of, without
from .config import Settings
from .feedback import Feedback, ProductView, variant_label
from .interpret import Interpretation, Interpreter
from .llm import make_chat_model
from .llm_models import LLMUnavailableError
from .records import CartItem, DialogueState, Reply, ShownItem, TurnInterpretation
from .respond import (
    ReplyWriter,
    answer_about,
    compare_reply,
    compare_rows,
    describe_constraints,
)
from .state import apply_turn, ranking_query
from .vocabulary import Vocabulary

GREETING = (
    'Hi! Tell me what you\'re looking for — for example "a warm jacket under $80" — '
    "and I'll suggest a few products from this shop."
)
REDIRECT = (
    "Sorry, I can only help with shopping in this store. "
    "Tell me what you're looking for and I'll find a few products."
)


class Assistant:
    def __init__(self, settings: Settings, use_llm: bool = True):
        self.settings = settings
        self.index = ProductIndex(settings)
        self.searcher = HybridSearcher(self.index)
        self.ranker, why = load_ranker(self.index.dir, resolve_device(settings.device))
        self.vocab = Vocabulary.from_index_vocabulary(self.index.facets.vocabulary())
        self.notes: list[str] = [why] if why else []
        llm = None
        if use_llm:
            try:
                llm = make_chat_model(settings, resolve_device(settings.device))
            except LLMUnavailableError as exc:  # the assistant still works from rules and facts
                self.notes.append(f"LLM unavailable ({exc}); replies are built from the catalog")
        self.llm = llm  # shared by the agent console's drafting
        self.interpreter = Interpreter(self.vocab, llm, settings)
        writes = settings.llm_writes_replies
        if writes is None:  # measured: on a CPU the reasons cost ~10 s and mostly fail checks
            writes = resolve_device(settings.device) == "cuda" or bool(settings.llm_url)
        self.writer = ReplyWriter(self.vocab, llm if writes else None, settings)
        self.feedback = Feedback(settings)
        self._sessions: dict[str, DialogueState] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def state(self, session: str) -> DialogueState:
        return self._sessions.get(session, DialogueState()).model_copy(deep=True)

    def reset(self, session: str) -> None:
        self._sessions.pop(session, None)

    def _session_lock(self, session: str) -> threading.Lock:
        with self._guard:  # one turn at a time per session; sessions never share state
            return self._locks.setdefault(session, threading.Lock())

    def respond(
        self,
        session: str,
        message: str,
        image: str | None = None,
        on_token: Callable[[str], None] | None = None,
    ) -> Reply:
        with self._session_lock(session):
            return self._turn(session, message, image, on_token)

    def drop_constraint(
        self, session: str, key: str, on_token: Callable[[str], None] | None = None
    ) -> Reply:
        """Remove one understood constraint (a chip) and search again."""
        with self._session_lock(session):
            before = self._sessions.get(session, DialogueState())
            state = without(before, key, self.vocab)
            turn = TurnInterpretation(intent="refine", source="chip", certain=True)
            return self._finish(session, "", None, turn, state, [], {}, on_token)

    def _turn(self, session, message, image, on_token) -> Reply:
        started = time.perf_counter()
        before = self._sessions.get(session, DialogueState())
        if image and not message.strip():  # a photo alone: "something like this", afresh
            reading = Interpretation(turn=TurnInterpretation(intent="search", remove=["all"]))
        else:
            reading = self.interpreter.interpret(message, before)
        turn = reading.turn
        if image and turn.intent not in ("search", "refine"):
            turn = turn.model_copy(update={"intent": "search"})
        state = apply_turn(before, turn, self.vocab)
        timings = {"interpret_ms": round((time.perf_counter() - started) * 1000, 1)}
        return self._finish(session, message, image, turn, state, reading.notes, timings, on_token)

    def _finish(self, session, message, image, turn, state, notes, timings, on_token) -> Reply:
        clock = [time.perf_counter()]

        def lap(name: str) -> None:
            now = time.perf_counter()
            timings[f"{name}_ms"] = round((now - clock[0]) * 1000, 1)
            clock[0] = now

        notes = [*self.notes, *notes]
        items: list[RankedItem] = []
        reasons: list[str] = []
        if turn.intent in ("search", "refine", "clarify_answer"):
            shown = self.settings.results_per_turn
            trained = self.ranker.name != "retrieval-order"
            result = self.searcher.search(
                SearchRequest(
                    text=state.need,
                    image_path=image,
                    filters=state.filters,
                    k=max(shown, self.settings.rerank_depth) if trained else shown,
                )
            )
            lap("search")
            history = [p for pid in state.engaged[-10:] if (p := self.index.product(pid))]
            query = ranking_query(state)
            items = self.ranker.rank(query, result.candidates, history)[:shown]
            lap("rank")
            if items:
                intro = (
                    f"Here are {len(items)} products like your photo:"
                    if image and not message.strip()
                    else None
                )
                text, more, _, reasons = self.writer.write_products(
                    message, items, state, on_token, intro
                )
                notes += more
                text += self._clarifying_question(state, items)
                state.shown = [
                    ShownItem(
                        product_id=i.product.id,
                        title=i.product.title,
                        price=i.product.price,
                        category=i.product.category,
                    )
                    for i in items
                ]
            else:
                wanted = describe_constraints(state.filters, state.kinds, state.departments)
                why = result.empty_reason or "nothing relevant came up"
                text = f"I couldn't find {wanted}: {why}. Could you relax one of these?"
        else:
            text, items = self._answer(turn, state)
        lap("respond")
        timings["total_ms"] = round(sum(timings.values()), 1)
        self._sessions[session] = state
        reply_id = uuid.uuid4().hex
        if reasons:  # a search reply: what was shown, for the ranker's training data
            notes += self.feedback.impressions(
                session, reply_id, message, items, state, ranking_query(state)
            )
        return Reply(
            text=text,
            intent=turn.intent,
            reply_id=reply_id,
            products=items,
            reasons=reasons,
            chips=chips_of(state),
            state=state,
            interpretation=turn,
            notes=notes,
            timings_ms=timings,
        )

    # ---- actions from the UI -------------------------------------------------------------
    def add_variant(
        self, session: str, product_id: str, sku_or_option: str | None, reply_id: str = ""
    ) -> tuple[str, list[CartItem]]:
        """Add a product in one of its existing variants (by SKU or "colour / size") to the
        session's cart. Returns the confirmation and the cart."""
        product = self.index.product(product_id)
        if product is None:
            raise ValueError(f"no product {product_id!r} in this catalog")
        variants = product.purchasable_variants()
        chosen = [v for v in variants if sku_or_option in (v.sku, variant_label(v))]
        if not chosen and sku_or_option is None and len(variants) == 1:
            chosen = variants
        if not chosen:
            raise ValueError(
                f"{product.title} has no variant {sku_or_option!r}; "
                f"choose one of: {', '.join(variant_label(v) for v in variants)}"
            )
        v = chosen[0]
        with self._session_lock(session):
            state = self._sessions.setdefault(session, DialogueState())
            state.engaged = [*[e for e in state.engaged if e != product.id], product.id]
            state.cart.append(CartItem.of(product, v))
            cart = list(state.cart)
        self.feedback.record(session, "cart_add", reply_id, product.id, state)
        return f"Added the {product.title} ({variant_label(v)}) to your cart.", cart

    def open_product(self, session: str, product_id: str, reply_id: str = "") -> ProductView:
        product = self.index.product(product_id)
        if product is None:
            raise ValueError(f"no product {product_id!r} in this catalog")
        with self._session_lock(session):
            state = self._sessions.setdefault(session, DialogueState())
            state.engaged = [*[e for e in state.engaged if e != product.id], product.id]
        self.feedback.record(session, "click", reply_id, product.id, self.state(session))
        return ProductView(
            product=product,
            photos=[str(p) for p in self.index.photo_files(product.id)],
            variants=[variant_label(v) for v in product.purchasable_variants() if v.available],
        )

    def compare(self, product_ids: list[str]) -> list[tuple[str, list[str]]]:
        products = [p for pid in product_ids if (p := self.index.product(pid))]
        if not 2 <= len(products) <= 4:
            raise ValueError("choose two to four products to compare")
        return [("product", [p.title for p in products]), *compare_rows(products)]

    def cards(self, reply: Reply) -> list[ProductCard]:
        return cards_for(reply.products, reply.reasons, reply.state, self.index.photo_files)

    def rate_reply(self, session: str, reply_id: str, up: bool) -> None:
        self.feedback.record(session, "thumbs_up" if up else "thumbs_down", reply_id, None)

    def _shown(self, state: DialogueState, refs: list[int]) -> list[RankedItem]:
        out = []
        for r in refs:
            if 1 <= r <= len(state.shown) and (
                p := self.index.product(state.shown[r - 1].product_id)
            ):
                out.append(RankedItem(product=p, score=0.0, ranker="shown"))
        return out

    def _answer(
        self, turn: TurnInterpretation, state: DialogueState
    ) -> tuple[str, list[RankedItem]]:
        if turn.intent == "smalltalk":
            return GREETING, []
        if turn.intent == "out_of_scope":
            return REDIRECT, []
        refs = turn.references or state.focus or ([1] if state.shown else [])
        items = self._shown(state, refs)
        if not items:
            return "Which product do you mean? Search for something first and I'll list a few.", []
        if turn.intent == "compare":
            return compare_reply([i.product for i in items]), items
        if turn.intent == "ask_item":
            return answer_about(items[0].product, turn.question), items[:1]
        return self._add_to_cart(turn, state, items[0])

    def _add_to_cart(self, turn, state, item: RankedItem) -> tuple[str, list[RankedItem]]:
        p, want = item.product, turn.cart
        variants = p.purchasable_variants()
        size = want.size if want else None
        color = want.color if want else None
        if size is None and len({v.size for v in variants if v.size}) > 1:
            return (
                f"Which size would you like for the {p.title}? It comes in {', '.join(p.sizes)}.",
                [item],
            )
        match = [
            v
            for v in variants
            if (size is None or (v.size or "").casefold() == size.casefold())
            and (
                color is None
                or (v.color or "").casefold() == color.casefold()
                or color in (v.color or "").casefold()
            )
        ]
        if not match:
            options = ", ".join(
                sorted({f"{v.color or ''} {v.size or ''}".strip() for v in variants})
            )
            return (
                f"The {p.title} doesn't come in {' '.join(x for x in (color, size) if x)}. "
                f"It comes in: {options}.",
                [item],
            )
        # no colour named now: prefer the colours the shopper asked for, never an excluded one
        from retrieval.facets import variant_matches

        preferred = [
            v
            for v in match
            if variant_matches(
                v,
                state.filters.model_copy(
                    update={"sizes": [], "price_min": None, "price_max": None}
                ),
            )
        ]
        v = (preferred or match)[0]
        state.cart.append(CartItem.of(p, v, want.quantity if want else 1))
        detail = ", ".join(x for x in (v.color, f"size {v.size}" if v.size else None) if x)
        return f"Added the {p.title}{f' ({detail})' if detail else ''} to your cart.", [item]

    def _clarifying_question(self, state: DialogueState, items: list[RankedItem]) -> str:
        """One short question, only when the results really split on a department the
        shopper has not named, and never twice."""
        if state.departments or "department" in state.asked or not self.vocab.departments:
            return ""
        tops = {i.product.category.split("/")[0].casefold() for i in items}
        split = tops & set(self.vocab.departments)
        if len(split) >= 2 and len(tops) == len(split):
            state.asked.append("department")
            names = " or ".join(f"{d}'s" for d in sorted(split))
            return f"\nAre you shopping for {names}?"
        return ""
