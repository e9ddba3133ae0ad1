"""The parts a turn uses, built once: from the settings (the LLM, the ranker, the stores) and
from one index generation (the index, its searcher, lexicon, catalog words, reader and
writer). `Parts` is immutable; `LiveParts` is the one place that swaps in a new generation
when an ingest makes one live, between turns."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ranking.model import load_ranker
from ranking.rank import RetrievalOrderRanker
from retrieval.index import ProductIndex
from retrieval.lexicon import Lexicon, read_shop_synonyms
from retrieval.models import configure_threads, resolve_device
from retrieval.search import HybridSearcher

from .config import Settings
from .conversations import ConversationStore
from .feedback import Feedback
from .generation import GenerationGate
from .llm import make_chat_model
from .llm_models import LLMUnavailableError
from .related import LiveRelated
from .respond import ReplyWriter
from .understanding import CatalogView, CatalogWords, Interpreter


@dataclass(frozen=True)
class Parts:
    settings: Settings
    llm: Any  # the chat model, or None: replies are built from the catalog
    ranker: Any  # the fine-tuned ranker, or retrieval order
    feedback: Feedback  # the event log's writer
    conversations: ConversationStore
    related: LiveRelated
    notes: tuple[str, ...]  # said at start and with every reply (an LLM that did not load)
    # read from one index generation, replaced together
    index: ProductIndex
    searcher: HybridSearcher
    lexicon: Lexicon
    words: CatalogWords
    view: CatalogView
    interpreter: Interpreter
    writer: ReplyWriter


def _generation(settings: Settings, index: ProductIndex, llm, writer_llm) -> dict:
    """The parts read from one index generation."""
    lexicon = index.lexicon
    if settings.lexicon_file:  # the shop's own synonyms, without re-ingesting
        lexicon.synonyms.update(read_shop_synonyms(settings.lexicon_file))
    words, view = CatalogWords(lexicon), CatalogView(index.facets, lexicon)
    return {
        "index": index,
        "searcher": HybridSearcher(index),
        "lexicon": lexicon,
        "words": words,
        "view": view,
        "interpreter": Interpreter(words, view, llm, settings),
        "writer": ReplyWriter(lexicon, writer_llm, settings),
    }


def build_parts(settings: Settings, use_llm: bool = True) -> Parts:
    # the turns computed at once share the cores instead of each spinning on all of them
    configure_threads(settings.threads_for_inference())
    device = resolve_device(settings.device)
    notes: list[str] = []
    llm = None
    if use_llm:
        try:
            llm = make_chat_model(settings, device)
        except LLMUnavailableError as exc:  # the assistant still works from rules and facts
            notes.append(f"LLM unavailable ({exc}); replies are built from the catalog")
    writes = settings.llm_writes_replies
    if writes is None:  # measured: on a CPU the reasons cost ~10 s and mostly fail checks
        writes = device == "cuda" or bool(settings.llm_url)
    index = ProductIndex(settings)
    generation = _generation(settings, index, llm, llm if writes else None)
    generation["searcher"].query_encoder  # noqa: B018 - exported or loaded now, not in a turn
    ranker = RetrievalOrderRanker()
    if settings.use_trained_ranker:
        ranker, why = load_ranker(index.dir, device)
        notes[:0] = [why] if why else []
    feedback = Feedback(settings)
    return Parts(
        settings=settings,
        llm=llm,
        ranker=ranker,
        feedback=feedback,
        conversations=ConversationStore(
            settings.conversation_location(),
            max_messages=settings.max_chat_messages,
            max_chars=settings.max_message_chars,
        ),
        related=LiveRelated(settings, feedback),
        notes=tuple(notes),
        **generation,
    )


class LiveParts:
    """The parts of the live index generation. Turns run inside `turn()` and read one
    generation whole; `follow_index` loads a newer one while turns go on and swaps it in
    between them."""

    def __init__(self, parts: Parts):
        self._parts = parts
        self._gate = GenerationGate()
        self._checked = time.monotonic()
        self._following = threading.Lock()

    @property
    def parts(self) -> Parts:
        return self._parts

    @contextmanager
    def turn(self) -> Iterator[Parts]:
        """The live parts, held for one turn (a swap waits for it to end)."""
        self.follow_index()
        with self._gate.turn():
            yield self._parts

    def replace(self, **changes) -> Parts:
        """Swap in other parts (a model for an eval or a test), between turns."""
        new = dataclasses.replace(self._parts, **changes)
        with self._gate.switch():
            self._parts = new
        return new

    def follow_index(self) -> bool:
        """Switch to the generation an ingest made live since (checked at most once a
        second). Never called from inside `turn()` (the switch would wait for itself)."""
        now = time.monotonic()
        if now - self._checked < 1.0 or not self._following.acquire(blocking=False):
            return False  # checked a moment ago, or another turn is loading it
        try:
            self._checked = now
            old = self._parts
            if not old.index.is_stale():
                return False
            index = ProductIndex(old.settings)
            index.vectors, index.facets, index.lexical  # noqa: B018 - loaded before the switch
            # no turn is half on the old generation, half on the new: the swap waits for them
            self.replace(**_generation(old.settings, index, old.llm, old.writer.llm))
            return True
        finally:
            self._following.release()
