"""One turn of the conversation, as in DESIGN.md:
interpret → update the dialogue state → search → rank → respond."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable

from base.privacy import redacted, without_contact_details
from ranking.model import load_ranker
from ranking.rank import RankedItem, RetrievalOrderRanker
from retrieval.index import ProductIndex
from retrieval.lexicon import read_shop_synonyms
from retrieval.models import configure_threads, resolve_device
from retrieval.schema import SearchRequest
from retrieval.search import HybridSearcher

from . import evidence
from .actions import ShopperActions
from .chips import best_relaxation, chips_of, without
from .config import Settings
from .conversations import ConversationStore
from .examples import example_request, typical_price
from .feedback import Feedback
from .generation import GenerationGate
from .item_answers import compare_table
from .llm import make_chat_model
from .llm_models import LLMUnavailableError
from .records import DialogueState, Explanation, Reply, TurnInterpretation
from .related import LiveRelated
from .respond import ReplyWriter
from .state import apply_turn, ranking_query
from .understanding import CatalogView, CatalogWords, Interpretation, Interpreter
from .understanding.clarify import clarifying_question
from .understanding.unknown import foreign
from .wording import describe_constraints, shown_items

NEAR_COSINE = 0.35  # a product this close to the words asked for is worth offering instead


class Assistant:
    def __init__(self, settings: Settings, use_llm: bool = True):
        self.settings = settings
        self.notes: list[str] = []
        # the turns computed at once share the cores instead of each spinning on all of them
        configure_threads(settings.threads_for_inference())
        llm = None
        if use_llm:
            try:
                llm = make_chat_model(settings, resolve_device(settings.device))
            except LLMUnavailableError as exc:  # the assistant still works from rules and facts
                self.notes.append(f"LLM unavailable ({exc}); replies are built from the catalog")
        self.llm = llm  # shared by the agent console's drafting
        writes = settings.llm_writes_replies
        if writes is None:  # measured: on a CPU the reasons cost ~10 s and mostly fail checks
            writes = resolve_device(settings.device) == "cuda" or bool(settings.llm_url)
        self._writer_llm = llm if writes else None
        self._gate = GenerationGate()
        self._open(ProductIndex(settings))
        self.searcher.query_encoder  # noqa: B018 - exported or loaded now, not in a turn
        if settings.use_trained_ranker:
            self.ranker, why = load_ranker(self.index.dir, resolve_device(settings.device))
            self.notes[:0] = [why] if why else []
        else:
            self.ranker = RetrievalOrderRanker()
        self.feedback = Feedback(settings)
        self.actions = ShopperActions(self)
        self.related = LiveRelated(self)
        self.conversations = ConversationStore(settings.conversation_location())
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._checked = time.monotonic()
        self._following = threading.Lock()

    def _open(self, index: ProductIndex) -> None:
        """Everything read from one index generation, replaced together."""
        lexicon = index.lexicon
        if self.settings.lexicon_file:  # the shop's own synonyms, without re-ingesting
            lexicon.synonyms.update(read_shop_synonyms(self.settings.lexicon_file))
        searcher = HybridSearcher(index)
        words, view = CatalogWords(lexicon), CatalogView(index.facets, lexicon)
        parts = {
            "index": index,
            "searcher": searcher,
            "lexicon": lexicon,
            "words": words,
            "view": view,
            "interpreter": Interpreter(words, view, self.llm, self.settings),
            "writer": ReplyWriter(lexicon, self._writer_llm, self.settings),
        }
        with self._gate.switch():  # no turn is half on the old generation, half on the new
            self.__dict__.update(parts)

    def follow_index(self) -> bool:
        """Switch to the generation an ingest made live since (checked at most once a
        second). The new one is loaded while turns go on; the switch waits for the turns
        under way, so each turn reads one generation whole."""
        now = time.monotonic()
        if now - self._checked < 1.0 or not self._following.acquire(blocking=False):
            return False  # checked a moment ago, or another turn is loading it
        try:
            self._checked = now
            if not self.index.is_stale():
                return False
            index = ProductIndex(self.settings)
            index.vectors, index.facets, index.lexical  # noqa: B018 - loaded before the switch
            self._open(index)
            return True
        finally:
            self._following.release()

    def ranker_summary(self) -> str:
        """Which ranker orders the products, said at start (`aisle serve`, the page's log)."""
        card = getattr(self.ranker, "card", None)
        if card is None:
            why = (
                "use_trained_ranker is off"
                if not self.settings.use_trained_ranker
                else "no trained ranker for this index: run `aisle train-ranker`"
            )
            return f"Ranking: retrieval order ({why})"
        held = {k: v.get("ndcg@10") for k, v in card.heldout_metrics.items()}
        gain = (
            f"; held-out NDCG@10 {held['hybrid']:.3f} → {held['ranker']:.3f}"
            if held.get("hybrid") is not None and held.get("ranker") is not None
            else ""
        )
        return f"Ranking: the fine-tuned ranker, trained {card.created:%Y-%m-%d %H:%M} UTC{gain}"

    def example_request(self) -> str:
        """A request in this shop's own words and currency, for the page to suggest."""
        return example_request(self.lexicon, typical_price(self.index.facets.a["price"]), self.view)

    @property
    def has_photos(self) -> bool:
        return self.index.manifest.photos > 0

    def state(self, session: str) -> DialogueState:
        return self.conversations.load(session)

    def reset(self, session: str) -> None:
        self.conversations.delete(session)

    def chat(self, session: str) -> list[dict]:
        """The conversation's chat as the page drew it (to draw it again after a restart)."""
        return self.conversations.messages(session)

    def save_chat(self, session: str, messages: list[dict]) -> None:
        self.conversations.save(session, messages=messages)

    def session_lock(self, session: str) -> threading.Lock:
        with self._guard:  # one turn at a time per session; sessions never share state
            return self._locks.setdefault(session, threading.Lock())

    def respond(
        self,
        session: str,
        message: str,
        image: str | None = None,
        on_token: Callable[[str], None] | None = None,
    ) -> Reply:
        message, said = self._admit(message)
        self.follow_index()
        with self._gate.turn(), self.session_lock(session):
            started = time.perf_counter()
            before = self.conversations.load(session)
            if image and not message.strip():  # a photo alone: "something like this", afresh
                reading = Interpretation(turn=TurnInterpretation(intent="search", remove=["all"]))
            else:
                reading = self.interpreter.interpret(message, before)
            turn = reading.turn
            if image and turn.intent not in ("search", "refine"):
                turn = turn.model_copy(update={"intent": "search"})
            state = apply_turn(before, turn, self.view)
            timings = {"interpret_ms": round((time.perf_counter() - started) * 1000, 1)}
            if reading.llm_first_token_ms is not None:  # the LLM read this turn
                timings["llm_first_token_ms"] = round(reading.llm_first_token_ms, 1)
            reply = self._finish(
                session, message, image, turn, state, reading.notes, timings, on_token
            )
            return reply.model_copy(
                update={
                    "text": "\n".join([*said, reply.text]),
                    "read_by_llm": reading.llm_called,
                    "llm_invented": reading.llm_invented,
                }
            )

    def _admit(self, message: str) -> tuple[str, list[str]]:
        """The message as the turn may use it: bounded in length, so one shopper cannot stall
        the others, and without e-mail addresses or card and phone numbers, which no search
        needs and nothing (state, log, conversation store) should keep."""
        said = []
        limit = self.settings.max_message_chars
        if len(message) > limit:
            message = message[:limit]
            said.append(f"(Your message was long, so I read its first {limit:,} characters.)")
        message, removed = redacted(message)
        if removed:
            message = without_contact_details(message)
            said.append(
                "(I left out the contact or card details in your message: "
                "I don't need them to find products.)"
            )
        return message, said

    def drop_constraint(
        self, session: str, key: str, on_token: Callable[[str], None] | None = None
    ) -> Reply:
        """Remove one understood constraint (a chip) and search again."""
        return self._rerun(session, lambda state: without(state, key, self.view), on_token)

    def make_strict(
        self, session: str, key: str, on_token: Callable[[str], None] | None = None
    ) -> Reply:
        """A value read from words (a soft chip) made the shopper's own: it filters now."""

        def strict(state: DialogueState) -> DialogueState:
            if key not in {c.key for c in chips_of(state)}:
                raise ValueError(f"no constraint {key!r} in this conversation")
            return state.model_copy(update={"explicit": [*state.explicit, key]})

        return self._rerun(session, strict, on_token)

    def _rerun(self, session: str, change, on_token) -> Reply:
        """The conversation's constraints changed by a chip (`change`: state → state), and
        the search run again on them."""
        self.follow_index()
        with self._gate.turn(), self.session_lock(session):
            state = change(self.conversations.load(session))
            turn = TurnInterpretation(intent="refine", source="chip", certain=True)
            return self._finish(session, "", None, turn, state, [], {}, on_token)

    def _finish(self, session, message, image, turn, state, notes, timings, on_token) -> Reply:
        clock = [time.perf_counter()]

        def lap(name: str) -> None:
            now = time.perf_counter()
            timings[f"{name}_ms"] = round((now - clock[0]) * 1000, 1)
            clock[0] = now

        notes = [*self.notes, *notes, *turn.notes]
        items: list[RankedItem] = []
        reasons: list[str] = []
        explanations: list[Explanation] = []
        by_llm = False
        table = None
        applied = None
        if turn.intent == "related":  # a new list: shown, logged, open to "add the first"
            text, items, reasons = self.actions.related(turn, state)
        elif turn.intent not in ("search", "refine", "clarify_answer"):
            text, items = self.actions.answer(turn, state)
            if turn.intent == "compare" and len(items) >= 2:
                table = compare_table([i.product for i in items])
        elif turn.unsold and not turn.constraints.categories and not image:
            text = self._not_sold(turn.unsold)  # asked for a kind this catalog never names
        elif (
            turn.not_understood and not image and not turn.constraints.slots() and foreign(message)
        ):
            said = sorted(dict.fromkeys(turn.not_understood), key=len, reverse=True)[:4]
            words = ", ".join(f"“{w}”" for w in said)
            text = (
                f"Sorry, I didn't understand {words}. Could you tell me in other words "
                "what you're looking for?"
            )
        else:
            text, items, reasons, explanations, by_llm, applied = self._search(
                message, image, turn, state, on_token, notes, lap
            )
        lap("respond")
        timings["total_ms"] = round(sum(timings.values()), 1)
        previous = self.conversations.load(session)
        reply_id = uuid.uuid4().hex
        if reasons:  # a search reply: what was shown, for the ranker's training data
            state.shown_reply = reply_id
            shown_as = f"related:{turn.related}" if turn.intent == "related" else "search"
            notes += self.feedback.impressions(
                session, reply_id, message, items, state, ranking_query(state), shown_as
            )
        for line in state.cart[len(previous.cart) :]:  # added in chat ("add the first one")
            notes += self.feedback.record(
                session, "cart_add", state.shown_reply, line.product_id, state
            )
        self.conversations.save(session, state)
        return Reply(
            text=text,
            intent=turn.intent,
            reply_id=reply_id,
            products=items,
            reasons=reasons,
            explanations=explanations,
            reasons_by_llm=by_llm,
            table=table,
            chips=chips_of(state, self.lexicon.currency),
            filters=applied.hard.filters if applied else None,
            state=state,
            interpretation=turn,
            notes=notes,
            timings_ms=timings,
        )

    def _search(self, message, image, turn, state, on_token, notes, lap):
        shown = self.settings.results_per_turn
        trained = self.ranker.name != "retrieval-order"
        depth = max(shown, self.settings.rerank_depth) if trained else shown
        weighed, result, loose, closest = self._weighed_search(
            image, turn, state, shown, depth, notes
        )
        lap("search")
        history = [p for pid in state.engaged[-10:] if (p := self.index.product(pid))]
        # the ranker scores against what filtered and the words searched, not soft kinds' names
        query = ranking_query(weighed.described())
        ranked = self.ranker.rank(query, result.candidates, history)
        items = ranked[:shown]
        if weighed.inferred and loose is not None and len(items) == 1 < shown:
            # an inferred value left one product: those it removed as close fill the reply
            have = {i.product.id for i in items}
            extra = [c for c in loose.candidates if c.product.id not in have]
            extra = evidence.close_enough(extra, items)
            extra = self.ranker.rank(query, extra, history)[: shown - len(items)]
            if extra:
                notes.append(f"{len(items)} matched; {len(extra)} close products added")
                items = [*items, *(i.model_copy(update={"fill": True}) for i in extra)]
        lap("rank")
        # the values that filtered this reply are chips the shopper sees: kept, they are
        # theirs; the soft ones are marked on the chips, as long as the conversation lasts
        state.explicit = list(dict.fromkeys([*state.explicit, *weighed.inferred]))
        state.soft = list(weighed.soft)
        if not items:
            return self._nothing_matches(state, result), [], [], [], False, weighed
        intro = (
            f"Here are {len(items)} products like your photo:"
            if image and not message.strip()
            else closest
        )
        # the reply describes the filters applied; the soft values are words it looks for
        told = weighed.described() if weighed.soft else state
        written = self.writer.write_products(message, items, told, on_token, intro)
        text, notes[len(notes) :] = written.text, written.notes
        if turn.intent == "search" and (
            asked := clarifying_question(
                [i.product for i in ranked[:20]], state, self.lexicon, result.total_matching, shown
            )
        ):
            text += f"\n{asked[0]}"
            state.asked.append(asked[1])
            state.asked_at = state.turns
        state.shown = shown_items(items)
        return text, items, written.reasons, written.explanations, written.by_llm, weighed

    def _weighed_search(self, image, turn, state, shown: int, depth: int, notes: list[str]):
        """The search with what the evidence lets filter (assistant/evidence.py) → (the
        evidence as applied, the result, the search without the inferred values or None,
        the line that opens a reply whose inferred values contradicted each other)."""
        weighed = evidence.weigh(state, self.lexicon, self.view, self.settings.inferred_values)

        def search(ev: evidence.Evidence, k: int):
            request = SearchRequest(
                text=ev.need,
                image_path=image,
                filters=ev.hard.filters,
                k=k,
                colors=turn.colors or None,
            )
            found = self.searcher.search(request)
            ranked = evidence.shun(evidence.lift(found.candidates, ev.soft), state.avoid)
            return found.model_copy(update={"candidates": ranked})

        # soft values lift, never remove: fetch deep enough for the lift to reach the top
        deep = max(depth, 4 * shown)
        result = search(weighed, deep if weighed.soft or state.avoid else depth)
        # the values read from words filter only if that is no worse; when nothing matches
        # and they are not what contradicts, the reply names the constraint to drop instead
        if not weighed.inferred or not (
            result.candidates or evidence.contradictory(weighed, self.view)
        ):
            return weighed, result, None, None
        loosened = weighed.loosened(self.view)
        loose = search(loosened, deep)
        if evidence.as_good(result.candidates, loose.candidates, shown):
            return weighed, result, loose, None
        notes.append("values read from words re-rank: filtering by them fit worse")
        # nothing matched them together: said as it is, then the closest products
        closest = (
            None if result.candidates else f"{self._nothing_matches(state, result)} The closest:"
        )
        return loosened, loose, loose, closest

    def _nothing_matches(self, state: DialogueState, result) -> str:
        """Said plainly, with the one constraint whose removal gives results, and how many."""
        wanted = describe_constraints(state, self.lexicon)
        relax = best_relaxation(state, self.view, self.index.facets.count, self.lexicon.currency)
        if relax is None or result.total_matching:
            why = result.empty_reason or "nothing relevant came up"
            return f"I couldn't find {wanted}: {why}. Could you relax one of these?"
        chip, n = relax
        found = "1 product matches" if n == 1 else f"{n} products match"
        return (
            f"Nothing matches {wanted} exactly. Without “{chip.label}”, {found}: "
            "remove it (its × above the chat), or tell me what to change."
        )

    def _not_sold(self, kinds: list[str]) -> str:
        """A plain no, with the nearest kinds the shop does have."""
        result = self.searcher.search(SearchRequest(text=" ".join(kinds), k=20))
        near = Counter()
        for c in result.candidates:
            leaf = c.product.category.split("/")[-1] if c.product.category else ""
            dense = c.signals.get("dense")
            if leaf and dense and dense.score >= NEAR_COSINE:
                near[leaf] += 1
        offer = [k for k, _ in near.most_common(3)]
        what = " or ".join(kinds)
        if not offer:
            return f"Sorry, this shop doesn't sell {what}."
        return (
            f"Sorry, this shop doesn't sell {what}. The closest we have: "
            f"{', '.join(offer)}. Shall I show you some?"
        )
