"""One turn of the conversation, as in DESIGN.md:
interpret → update the dialogue state → search → rank → respond."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ranking.rank import RankedItem, RetrievalOrderRanker
from retrieval.index import ProductIndex
from retrieval.models import resolve_device
from retrieval.schema import SearchRequest
from retrieval.search import HybridSearcher

from .config import Settings
from .interpret import Interpreter
from .llm import make_chat_model
from .llm_models import LLMUnavailableError
from .records import CartItem, DialogueState, Reply, ShownItem, TurnInterpretation
from .respond import ReplyWriter, answer_about, compare_reply, describe_constraints
from .state import apply_turn
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
        self.ranker = RetrievalOrderRanker()
        self.vocab = Vocabulary.from_index_vocabulary(self.index.facets.vocabulary())
        self.notes: list[str] = []
        llm = None
        if use_llm:
            try:
                llm = make_chat_model(settings, resolve_device(settings.device))
            except LLMUnavailableError as exc:  # the assistant still works from rules and facts
                self.notes.append(f"LLM unavailable ({exc}); replies are built from the catalog")
        self.interpreter = Interpreter(self.vocab, llm, settings)
        self.writer = ReplyWriter(
            self.vocab, llm if settings.llm_writes_replies else None, settings
        )
        self._sessions: dict[str, DialogueState] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def state(self, session: str) -> DialogueState:
        return self._sessions.get(session, DialogueState()).model_copy(deep=True)

    def reset(self, session: str) -> None:
        self._sessions.pop(session, None)

    def respond(
        self,
        session: str,
        message: str,
        image: str | None = None,
        on_token: Callable[[str], None] | None = None,
    ) -> Reply:
        with self._guard:
            lock = self._locks.setdefault(session, threading.Lock())
        with lock:  # one turn at a time per session; sessions never share state
            return self._turn(session, message, image, on_token)

    def _turn(self, session, message, image, on_token) -> Reply:
        timings: dict[str, float] = {}
        clock = [time.perf_counter()]

        def lap(name: str) -> None:
            now = time.perf_counter()
            timings[f"{name}_ms"] = round((now - clock[0]) * 1000, 1)
            clock[0] = now

        before = self._sessions.get(session, DialogueState())
        reading = self.interpreter.interpret(message, before)
        turn, notes = reading.turn, [*self.notes, *reading.notes]
        if image and turn.intent not in ("search", "refine"):
            turn = turn.model_copy(update={"intent": "search"})
        lap("interpret")
        state = apply_turn(before, turn, self.vocab)
        lap("state")

        items: list[RankedItem] = []
        if turn.intent in ("search", "refine", "clarify_answer"):
            result = self.searcher.search(
                SearchRequest(
                    text=state.need,
                    image_path=image,
                    filters=state.filters,
                    k=self.settings.results_per_turn,
                )
            )
            lap("search")
            items = self.ranker.rank(state.need, result.candidates)
            lap("rank")
            if items:
                text, more, _ = self.writer.write_products(message, items, state, on_token)
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
        return Reply(
            text=text,
            intent=turn.intent,
            products=items,
            state=state,
            interpretation=turn,
            notes=notes,
            timings_ms=timings,
        )

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
        state.cart.append(
            CartItem(
                product_id=p.id,
                title=p.title,
                sku=v.sku,
                color=v.color,
                size=v.size,
                price=v.price or p.price,
                quantity=want.quantity if want else 1,
            )
        )
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
