"""The assistant a page, the CLI or an eval holds: the live parts (parts.py) and the public
calls on a conversation. A turn's flow is in turn.py."""

from __future__ import annotations

from collections.abc import Callable

from .actions import ShopperActions
from .chips import chips_of, without
from .config import Settings
from .examples import example_request, typical_price
from .parts import LiveParts, Parts, build_parts
from .records import DialogueState, Reply
from .turn import rerun, run_turn


class Assistant:
    def __init__(self, settings: Settings, use_llm: bool = True):
        self.live = LiveParts(build_parts(settings, use_llm))
        self.actions = ShopperActions(self.live)

    @property
    def settings(self) -> Settings:
        return self.parts.settings

    @property
    def parts(self) -> Parts:
        """The parts of the live index generation (read once per use: a swap may follow)."""
        return self.live.parts

    @property
    def notes(self) -> list[str]:
        """What was said at start: an LLM that did not load, a ranker that did not."""
        return list(self.parts.notes)

    def follow_index(self) -> bool:
        return self.live.follow_index()

    # ---- a turn ---------------------------------------------------------------------------
    def respond(
        self,
        session: str,
        message: str,
        image: str | None = None,
        on_token: Callable[[str], None] | None = None,
    ) -> Reply:
        with self.live.turn() as parts:
            return run_turn(parts, session, message, image, on_token)

    def drop_constraint(
        self, session: str, key: str, on_token: Callable[[str], None] | None = None
    ) -> Reply:
        """Remove one understood constraint (a chip) and search again."""
        with self.live.turn() as parts:
            return rerun(parts, session, lambda state: without(state, key, parts.view), on_token)

    def make_strict(
        self, session: str, key: str, on_token: Callable[[str], None] | None = None
    ) -> Reply:
        """A value read from words (a soft chip) made the shopper's own: it filters now."""

        def strict(state: DialogueState) -> DialogueState:
            if key not in {c.key for c in chips_of(state)}:
                raise ValueError(f"no constraint {key!r} in this conversation")
            return state.model_copy(update={"explicit": [*state.explicit, key]})

        with self.live.turn() as parts:
            return rerun(parts, session, strict, on_token)

    # ---- conversations --------------------------------------------------------------------
    def state(self, session: str) -> DialogueState:
        return self.parts.conversations.load(session)

    def reset(self, session: str) -> None:
        self.parts.conversations.delete(session)

    def chat(self, session: str) -> list[dict]:
        """The conversation's chat as the page drew it (to draw it again after a restart)."""
        return self.parts.conversations.messages(session)

    def save_chat(self, session: str, messages: list[dict]) -> None:
        self.parts.conversations.save(session, messages=messages)

    # ---- what the page says at start ------------------------------------------------------
    def ranker_summary(self) -> str:
        """Which ranker orders the products, said at start (`aisle serve`, the page's log)."""
        card = getattr(self.parts.ranker, "card", None)
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
        parts = self.parts
        price = typical_price(parts.index.facets.a["price"])
        return example_request(parts.lexicon, price, parts.view)

    @property
    def has_photos(self) -> bool:
        return self.parts.index.manifest.photos > 0
