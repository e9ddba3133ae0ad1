"""The trained ranker: a sentence-transformers bi-encoder fine-tuned on (query, product)
pairs, whose score joins the retrieval signals and product features in a LightGBM
lambdarank fusion.

Why a fine-tuned bi-encoder rather than a cross-encoder: product vectors are computed once
at training time, so ranking 50 candidates costs one query encoding (~10 ms on 2 CPU
cores) plus a tree ensemble; a MiniLM cross-encoder over 50 pairs costs ~50 forward passes
(hundreds of ms here), beyond the 60 ms budget.

A folder holds: encoder/ (the fine-tuned model), products.npz (ids and vectors),
fusion.txt (LightGBM on content), personal.txt (LightGBM on the event features, a residual
on the fusion's score; there once the log had enough engaged replies), feedback.json
(feedback rates at training time), co_engagement.json (the sessions' co-views and co-carts
at training time), card.json and README.md (the model card)."""

from __future__ import annotations

import functools
import json
import logging
import threading
from datetime import datetime
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from retrieval.models import inference_threads
from retrieval.schema import Candidate, Product
from retrieval.text_embedder import product_text

from .co_engagement import CoEngagement, SessionItems
from .features import FEATURES, FeedbackStats, Taste, feature_matrix
from .rank import RankedItem, Ranker, RetrievalOrderRanker

log = logging.getLogger(__name__)
MAX_SEQ = 128  # product texts are cut here: the title, category and attributes come first
# The personal model learned from what shoppers were shown: the top of a content ranking
# (5 a reply by default). It reorders only the fusion's top 10. Measured on simulated
# shoppers: let loose on all 50 candidates it lifted products like the ones opened earlier,
# of the kind looked at before, over the kind asked for now (hidden-preference NDCG 0.89
# → 0.80 on the grocery shop); within the top 10 it no longer did.
PERSONAL_HEAD = 10


def with_personal(
    base: np.ndarray,
    residual: np.ndarray,
    head: int = PERSONAL_HEAD,
    unseen: np.ndarray | None = None,
):
    """The content fusion's scores with the personal residual added within its top `head`,
    which stays above the rest. `unseen`: products the log never showed; their residual
    is at least the median of the shown ones in the head, as behaviour that is missing
    says nothing against them (their taste can still lift them)."""
    out = np.asarray(base, dtype=float).copy()
    top = np.argsort(-out, kind="stable")[:head]
    if unseen is not None:
        seen = top[~unseen[top]]
        if len(seen) and unseen[top].any():
            residual = np.where(unseen, np.maximum(residual, np.median(residual[seen])), residual)
    if len(out) <= head:
        return out + residual
    rest = np.delete(out, top)
    lifted = out[top] + residual[top]
    out[top] = lifted + max(0.0, float(rest.max()) - float(lifted.min())) + 1e-6
    return out


class EventWindow(BaseModel):
    """The event log this model learned from."""

    since: datetime | None = None  # asked for (--since); None: the whole log
    first: datetime | None = None  # the first and last event used
    last: datetime | None = None
    events: int = 0
    sessions: int = 0
    labelled_queries: int = 0  # replies with engagement, turned into training queries


class Replacement(BaseModel):
    """The gate: held-out NDCG@10 of the model in place and of the new one, on the same
    held-out queries; the new one goes live only if it is no worse."""

    previous_created: datetime
    previous_ndcg: float
    new_ndcg: float
    swapped: bool


class ModelCard(BaseModel):
    created: datetime
    base_model: str
    device: str
    sources: dict[str, dict[str, int]]  # source → {"queries": n, "pairs": n}
    train_queries: dict[str, int]  # "encoder" / "fusion" / "heldout" → n
    heldout_metrics: dict[str, dict[str, float]]  # "hybrid" / "ranker" → metric → value
    training_seconds: dict[str, float]
    # a model trained before a feature existed reads only the features it was trained on
    features: list[str] = Field(default_factory=lambda: list(FEATURES))
    feature_importance: dict[str, float] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)
    events: EventWindow | None = None
    encoder_from: str = ""  # "" fine-tuned in this run; else the model whose encoder it kept
    replaced: Replacement | None = None

    def markdown(self) -> str:
        lines = [
            "# Aisle ranker",
            "",
            f"Trained {self.created:%Y-%m-%d %H:%M} UTC on {self.device}, "
            f"fine-tuned from `{self.base_model}`.",
            "",
            "## Training data",
            "| source | queries | pairs |",
            "|---|---|---|",
            *[f"| {s} | {v['queries']} | {v['pairs']} |" for s, v in self.sources.items()],
            "",
            "Queries per stage: " + ", ".join(f"{k} {v}" for k, v in self.train_queries.items()),
            "",
            "## Held-out queries",
            "| order | " + " | ".join(next(iter(self.heldout_metrics.values()), {})) + " |",
            "|---|" + "---|" * len(next(iter(self.heldout_metrics.values()), {})),
            *[
                f"| {name} | " + " | ".join(f"{v:.3f}" for v in m.values()) + " |"
                for name, m in self.heldout_metrics.items()
            ],
            "",
            "Training time: "
            + ", ".join(f"{k} {v:.0f} s" for k, v in self.training_seconds.items()),
            "",
            *self._events_lines(),
            *[f"- {n}" for n in self.notes],
        ]
        return "\n".join(lines) + "\n"

    def _events_lines(self) -> list[str]:
        out = []
        w = self.events
        if w is not None:
            span = (
                f"{w.first:%Y-%m-%d %H:%M} to {w.last:%Y-%m-%d %H:%M} UTC"
                if w.first and w.last
                else "no events"
            )
            since = f" (asked: since {w.since:%Y-%m-%d %H:%M})" if w.since else " (whole log)"
            out += [
                "## Event log",
                f"{w.events} events from {w.sessions} sessions, {span}{since}; "
                f"{w.labelled_queries} replies with engagement became training queries.",
                "",
            ]
        if self.encoder_from:
            out += [f"Encoder kept from the model of {self.encoder_from}; fusion retrained.", ""]
        r = self.replaced
        if r is not None:
            verdict = "swapped in" if r.swapped else "NOT swapped in (worse); the previous stays"
            out += [
                "## Against the model it replaces",
                f"Held-out NDCG@10: previous ({r.previous_created:%Y-%m-%d %H:%M}) "
                f"{r.previous_ndcg:.3f}, this one {r.new_ndcg:.3f}: {verdict}.",
                "",
            ]
        return out


class FineTunedRanker:
    name = "fine-tuned"

    def __init__(self, folder: Path, device: str = "cpu"):
        import lightgbm as lgb
        from sentence_transformers import SentenceTransformer

        self.folder = Path(folder)
        self.card = ModelCard.model_validate_json((self.folder / "card.json").read_text())
        self.encoder = SentenceTransformer(str(self.folder / "encoder"), device=device)
        self.encoder.max_seq_length = MAX_SEQ
        data = np.load(self.folder / "products.npz", allow_pickle=False)
        self._row = {pid: i for i, pid in enumerate(data["ids"].tolist())}
        self._vectors = data["vectors"]
        self._extra: dict[str, np.ndarray] = {}  # products added after training
        self.fusion = lgb.Booster(model_file=str(self.folder / "fusion.txt"))
        personal = self.folder / "personal.txt"  # learned from the event log, when it had enough
        self.personal = lgb.Booster(model_file=str(personal)) if personal.is_file() else None
        self._event_columns = (
            [self.card.features.index(f) for f in self.personal.feature_name()]
            if self.personal
            else []
        )
        self.stats = FeedbackStats.model_validate_json((self.folder / "feedback.json").read_text())
        self.co = CoEngagement.load(self.folder / "co_engagement.json")
        self._columns = [FEATURES.index(f) for f in self.card.features]
        self._lock = threading.Lock()

    def product_vectors(self, products: list[Product]) -> np.ndarray:
        """Vectors from training time; a product added since is encoded once (cold start:
        content only)."""
        missing = [p for p in products if p.id not in self._row and p.id not in self._extra]
        if missing:
            with self._lock:
                vecs = self.encoder.encode(
                    [product_text(p) for p in missing], normalize_embeddings=True
                )
                self._extra.update({p.id: v for p, v in zip(missing, vecs, strict=True)})
        return np.stack(
            [
                self._vectors[self._row[p.id]] if p.id in self._row else self._extra[p.id]
                for p in products
            ]
        )

    @functools.lru_cache(maxsize=512)  # noqa: B019 - one ranker per process; queries repeat
    def _query_vector(self, query: str) -> np.ndarray:
        return self.encoder.encode(query, normalize_embeddings=True)

    def scores(
        self,
        query: str,
        candidates: list[Candidate],
        history: list[Product] | tuple = (),
        own: SessionItems | None = None,
    ) -> np.ndarray:
        """`own`: the session's items left out of the co-engagement counts (evaluating on
        a session the model's log already holds)."""
        if not candidates:
            return np.zeros(0)
        vecs = self.product_vectors([c.product for c in candidates])
        model = vecs @ self._query_vector(query or " ")
        sims = None
        if history:  # the shopper's taste this session: mean of what they engaged with
            taste = self.product_vectors(list(history)).mean(axis=0)
            sims = vecs @ (taste / max(float(np.linalg.norm(taste)), 1e-9))
        taste = Taste(list(history), self.co, own)
        x = feature_matrix(query, candidates, model, self.stats, sims, taste)
        x = x[:, self._columns]
        threads = inference_threads()  # LightGBM's OpenMP pool: one thread a core otherwise
        args = {"num_threads": threads} if threads else {}
        scores = self.fusion.predict(x, **args)
        if self.personal is not None:
            residual = self.personal.predict(x[:, self._event_columns], **args)
            scores = with_personal(scores, residual, unseen=self.stats.unseen(candidates, own))
        return scores

    def rank(
        self, query: str, candidates: list[Candidate], history: list[Product] | tuple = ()
    ) -> list[RankedItem]:
        scores = self.scores(query, candidates, history)
        order = np.argsort(-scores, kind="stable")
        return [RankedItem.of(candidates[i], float(scores[i]), self.name) for i in order]


def ranker_dir(index_dir: Path) -> Path:
    return Path(index_dir).expanduser() / "ranker"


def load_ranker(index_dir: Path, device: str = "cpu") -> tuple[Ranker, str | None]:
    """The trained ranker for this index, or retrieval order (and why) when there is none
    or it cannot be loaded."""
    folder = ranker_dir(index_dir)
    if not (folder / "card.json").is_file():
        return RetrievalOrderRanker(), None
    try:
        return FineTunedRanker(folder, device), None
    except Exception as exc:  # noqa: BLE001 - a broken model must not take search down
        log.warning("ranker in %s not loaded: %s", folder, exc)
        return RetrievalOrderRanker(), f"ranker in {folder} not loaded ({exc}); retrieval order"


def write_card(folder: Path, card: ModelCard) -> None:
    (folder / "card.json").write_text(card.model_dump_json(indent=2))
    (folder / "README.md").write_text(card.markdown())
    json.dumps(card.model_dump(mode="json"))  # fail here, not at load, if not serialisable
