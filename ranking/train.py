"""`aisle train-ranker`: training data from three sources, the encoder fine-tuned on one
part of the queries, the fusion trained on another (so it does not learn to trust an
encoder score measured on the encoder's own training queries), both checked on held-out
queries.

Sources: (a) synthetic template queries over the catalog (`ranking.synthetic`), optionally
paraphrased by an LLM; (b) judged-pairs files a shop already has (`ranking.judgments`);
(c) the event log (`ranking.feedback_labels`)."""

from __future__ import annotations

import contextlib
import hashlib
import random
import shutil
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from retrieval.index import ProductIndex
from retrieval.models import load_sentence_transformer
from retrieval.schema import Candidate, SearchRequest
from retrieval.search import HybridSearcher
from retrieval.text_embedder import product_text

from . import synthetic
from .co_engagement import CoEngagement, SessionItems, sessions_of
from .events import Event
from .features import EVENT_FEATURES, FEATURES, MONOTONE, FeedbackStats, Taste, feature_matrix
from .feedback_labels import labels_from_events
from .judgments import Judgment, by_query
from .model import (
    MAX_SEQ,
    EventWindow,
    FineTunedRanker,
    ModelCard,
    Replacement,
    ranker_dir,
    with_personal,
    write_card,
)

CUTS = (10,)


class TrainConfig(BaseModel):
    synthetic_queries: int = Field(600, ge=0)
    paraphrases: int = Field(0, ge=0, description="LLM rewrites per synthetic query")
    candidates: int = Field(50, ge=5, le=500)
    epochs: int = Field(1, ge=1)
    batch_size: int = Field(32, ge=4)
    learning_rate: float = 5e-5
    positives_per_query: int = 3
    encoder_share: float = 0.55  # of the training queries; the rest train the fusion
    heldout_share: float = 0.15
    seed: int = 0
    since: datetime | None = None  # learn only from events at or after this time
    keep_encoder: bool = False  # reuse the current model's encoder; retrain the fusion only
    gate: bool = True  # swap in only if no worse on held-out queries than the current model
    fusion_trees: int = Field(400, ge=1)
    event_features: bool = True  # False: the event-derived features held at 0 (ablation)


class Query(BaseModel):
    qid: str
    text: str
    grades: dict[str, int]  # product id → grade; missing = 0
    weights: dict[str, float] = Field(default_factory=dict)
    source: str
    history: list[str] = Field(default_factory=list)  # the shopper's earlier products
    session: str = ""


def _stage(qid: str, cfg: TrainConfig) -> str:
    """A stable split by query id: the same query is held out on every run."""
    u = int(hashlib.sha1(qid.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    if u < cfg.heldout_share:
        return "heldout"
    return (
        "encoder"
        if u < cfg.heldout_share + cfg.encoder_share * (1 - cfg.heldout_share)
        else "fusion"
    )


def gather(
    products,
    cfg: TrainConfig,
    judged: list[Judgment],
    events: list[Event],
    rewrite: Callable[[str], list[str]] | None,
    lexicon=None,
) -> list[Query]:
    queries: list[Query] = []
    generated = synthetic.generate(products, cfg.synthetic_queries, cfg.seed, lexicon)
    if rewrite and cfg.paraphrases:
        generated += synthetic.paraphrase(generated, rewrite, cfg.paraphrases)
    for q in generated:
        source = "synthetic+llm" if q.paraphrase_of else "synthetic"
        # a paraphrase is split with its source query, or the held-out set would leak
        qid = f"syn:{q.paraphrase_of or q.text}|{q.text}"
        queries.append(Query(qid=qid, text=q.text, grades=q.grades, source=source))
    for source, pairs in (("judged", judged), ("feedback", labels_from_events(events))):
        texts = {j.qid: j.query for j in pairs}
        histories = {j.qid: j.history for j in pairs}
        sessions = {j.qid: j.session for j in pairs}
        weights: dict[str, dict[str, float]] = {}
        for j in pairs:
            weights.setdefault(j.qid, {})[j.product_id] = j.weight
        for qid, grades in by_query(pairs).items():
            queries.append(
                Query(
                    qid=f"{source}:{qid}",
                    text=texts[qid],
                    grades=grades,
                    weights=weights[qid],
                    source=source,
                    history=histories[qid],
                    session=sessions[qid],
                )
            )
    return queries


def _triplets(queries, cands, texts, cfg, rng) -> dict[str, list[str]]:
    """(query, relevant product, hard negative from the same candidate list)."""
    anchors, positives, negatives = [], [], []
    for q in queries:
        good = [pid for pid, g in q.grades.items() if g >= 2 and pid in texts]
        bad = [c.product.id for c in cands[q.qid] if q.grades.get(c.product.id, 0) == 0]
        if not good or not bad:
            continue
        for pid in rng.sample(good, min(cfg.positives_per_query, len(good))):
            anchors.append(q.text)
            positives.append(texts[pid])
            negatives.append(texts[rng.choice(bad[:20])])
    return {"anchor": anchors, "positive": positives, "negative": negatives}


def fine_tune(base: str, data: dict[str, list[str]], cfg: TrainConfig, device: str, progress: bool):
    import copy

    from datasets import Dataset
    from sentence_transformers import (
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
        losses,
    )
    from sentence_transformers.training_args import BatchSamplers

    model = copy.deepcopy(load_sentence_transformer(base, device))  # the shared one stays as is
    model.max_seq_length = MAX_SEQ
    if not data["anchor"]:
        return model
    args = SentenceTransformerTrainingArguments(
        output_dir=str(Path.home() / ".cache" / "aisle" / "trainer-tmp"),
        num_train_epochs=cfg.epochs,
        per_device_train_batch_size=cfg.batch_size,
        learning_rate=cfg.learning_rate,
        warmup_steps=0.1,  # a float: the share of steps (transformers v5)
        batch_sampler=BatchSamplers.NO_DUPLICATES,  # a duplicate in a batch is a false negative
        save_strategy="no",
        report_to="none",
        logging_steps=10_000,
        disable_tqdm=not progress,
        seed=cfg.seed,
        use_cpu=device == "cpu",
        bf16=device == "cuda",
    )
    trainer = SentenceTransformerTrainer(
        model=model,
        args=args,
        train_dataset=Dataset.from_dict(data),
        loss=losses.MultipleNegativesRankingLoss(model),
    )
    # transformers prints its closing log line to stdout when progress bars are off; keep
    # stdout for `aisle train-ranker --json`
    with contextlib.redirect_stdout(sys.stderr):
        trainer.train()
    return model


class _Context:
    """What the features of a training query are computed from."""

    def __init__(self, pvecs, products, stats, co: CoEngagement, own: dict[str, SessionItems]):
        self.pvecs, self.stats, self.co, self.own = pvecs, stats, co, own
        self.row_of = {p.id: i for i, p in enumerate(products)}
        self.by_id = {p.id: p for p in products}

    def features(self, q: Query, cands: list[Candidate], qvec, event_features: bool):
        vecs = np.stack([self.pvecs[self.row_of[c.product.id]] for c in cands])
        sims = None
        rows = [self.row_of[p] for p in q.history if p in self.row_of]
        if rows:  # as at serving time: similarity to the mean of what the shopper engaged with
            taste = self.pvecs[rows].mean(axis=0)
            sims = vecs @ (taste / max(float(np.linalg.norm(taste)), 1e-9))
        history = [self.by_id[p] for p in q.history if p in self.by_id]
        # the session's own co-views are left out: they would tell the label
        taste = Taste(history, self.co, self.own.get(q.session))
        x = feature_matrix(q.text, cands, vecs @ qvec, self.stats, sims, taste)
        if not event_features:
            x[:, [FEATURES.index(f) for f in EVENT_FEATURES]] = 0.0
        return x


def _previous_ndcg(folder: Path, device: str, queries, cands, by_id, own) -> tuple:
    """The model in place, scored on the new run's held-out queries (its own features, the
    same leave-one-session-out), or None when there is none or it cannot be read."""
    from ranx import Qrels, Run, evaluate

    if not (folder / "card.json").is_file() or not queries:
        return None, None
    try:
        previous = FineTunedRanker(folder, device)
    except Exception:  # noqa: BLE001 - an unreadable model is replaced, not compared
        return None, None
    qrels = Qrels({q.qid: {k: v for k, v in q.grades.items() if v > 0} for q in queries})
    run = {}
    for q in queries:
        listed, rows, _ = cands[q.qid]  # scored as a whole list, judged on its labelled rows
        history = [by_id[p] for p in q.history if p in by_id]
        counted = previous.co is not None and q.session in previous.co.counted
        s = previous.scores(q.text, listed, history, own.get(q.session) if counted else None)
        run[q.qid] = {listed[i].product.id: float(s[i]) for i in rows}
    return previous, float(evaluate(qrels, Run(run), "ndcg@10"))


def train(
    index: ProductIndex,
    cfg: TrainConfig,
    base_model: str,
    device: str = "cpu",
    judged: list[Judgment] | None = None,
    events: list[Event] | None = None,
    rewrite: Callable[[str], list[str]] | None = None,
    progress: bool = True,
    out_dir: Path | None = None,
    candidates_cache: dict[str, list[Candidate]] | None = None,
) -> ModelCard:
    """Train and save the ranker. With `cfg.gate` a model already in place is replaced
    only when the new one is no worse on the new run's held-out queries; the card
    (returned, and saved beside the one in use as `ranker.rejected` when not swapped) says
    which. `candidates_cache` (query text → candidates) is shared by runs on one index that
    search the same queries (the learning curve's)."""
    clock = _Clock()
    events = [e for e in events or [] if cfg.since is None or e.at >= _aware(cfg.since)]
    folder = out_dir or ranker_dir(index.dir)
    products = index.products(list(range(len(index.ids))))
    queries = [
        q for q in gather(products, cfg, judged or [], events, rewrite, index.lexicon) if q.grades
    ]
    clock.lap("queries")  # includes the LLM's paraphrases, when asked for
    if not queries:
        raise ValueError("no training queries: the catalog has no categories to build them from")
    stage = {q.qid: _stage(q.qid, cfg) for q in queries}
    cands = _candidates(index, queries, cfg, candidates_cache, progress)
    clock.lap("candidates")
    enc = _encoder(index, products, queries, stage, cands, cfg, base_model, device, progress)
    clock.lap("encoder")
    context = _Context(
        enc.pvecs,
        products,
        FeedbackStats.from_events(events),
        CoEngagement.from_events(events),
        sessions_of(events),
    )
    sets = _training_sets(queries, stage, cands, context, enc, cfg)
    models = _fit_models(sets, cfg)
    clock.lap("fusion")
    metrics = _heldout_metrics(sets, models, context)
    card = _card(queries, stage, events, cfg, base_model, device, enc, models, metrics, context)
    card.training_seconds = {**clock.laps, "total": clock.total()}
    if cfg.gate and "ranker" in metrics:
        by_id = {p.id: p for p in products}
        previous, before = _previous_ndcg(
            folder, device, sets.heldout_queries, sets.listed_of, by_id, context.own
        )
        if previous is not None:
            after = metrics["ranker"]["ndcg@10"]
            card.replaced = Replacement(
                previous_created=previous.card.created,
                previous_ndcg=before,
                new_ndcg=after,
                swapped=after >= before,
            )
    _save(folder, card, products, enc, models, context)
    return card


class _Clock:
    """Seconds per training stage, for the model card."""

    def __init__(self) -> None:
        self.start = self.last = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name], self.last = now - self.last, now

    def total(self) -> float:
        return time.perf_counter() - self.start


def _candidates(index, queries, cfg, cache, progress) -> dict[str, list[Candidate]]:
    """Each query's hybrid-search candidates, as serving would retrieve them."""
    from tqdm.auto import tqdm

    searcher = HybridSearcher(index)
    cache = {} if cache is None else cache
    cands: dict[str, list[Candidate]] = {}
    for q in tqdm(queries, desc="candidates", unit="query", disable=not progress):
        if q.text not in cache:
            cache[q.text] = searcher.search(SearchRequest(text=q.text, k=cfg.candidates)).candidates
        cands[q.qid] = cache[q.text]
    return cands


class _Encoded(BaseModel, arbitrary_types_allowed=True):
    model: object  # the sentence-transformers encoder
    pvecs: np.ndarray  # product vectors, in the index's order
    qvecs: dict[str, np.ndarray]  # query id → vector
    kept: FineTunedRanker | None = None  # the model whose encoder was kept, when kept


def _encoder(index, products, queries, stage, cands, cfg, base_model, device, progress):
    """The encoder fine-tuned on the encoder share of the queries (or the current model's,
    kept), and the product and query vectors it gives."""
    texts = {p.id: product_text(p) for p in products}
    kept = _kept_encoder(ranker_dir(index.dir), device) if cfg.keep_encoder else None
    if kept is not None:  # the fusion learns from new events; the encoder stays as it was
        model = kept.encoder
        pvecs = kept.product_vectors(products)
    else:
        enc_queries = [q for q in queries if stage[q.qid] == "encoder"]
        rng = random.Random(cfg.seed)
        model = fine_tune(
            base_model, _triplets(enc_queries, cands, texts, cfg, rng), cfg, device, progress
        )
        pvecs = model.encode(
            [texts[p.id] for p in products], normalize_embeddings=True, show_progress_bar=progress
        )
    vectors = model.encode([q.text for q in queries], normalize_embeddings=True)
    qvecs = dict(zip([q.qid for q in queries], vectors, strict=True))
    return _Encoded(model=model, pvecs=pvecs, qvecs=qvecs, kept=kept)


class _Sets:
    """Feature rows per (part, source), the held-out lists, the personal model's weights."""

    def __init__(self) -> None:
        # (xs, ys, groups, queries) per ("fusion" | "heldout", "content" | "feedback")
        self.rows = {(part, src): ([], [], [], []) for part in PARTS for src in SOURCES}
        # per held-out query: its whole candidate list, the labelled rows, the list's features
        self.listed_of: dict[str, tuple[list[Candidate], list[int], np.ndarray]] = {}
        self.weights: list[float] = []  # the personal model's training rows' (inverse propensity)

    @property
    def heldout_queries(self) -> list[Query]:
        return self.rows[("heldout", "content")][3] + self.rows[("heldout", "feedback")][3]


def _training_sets(queries, stage, cands, context, enc: _Encoded, cfg) -> _Sets:
    """Feature rows for the fusion and the held-out check. Two models: the fusion learns
    from candidate lists graded against the query (synthetic, judged); the personal model
    learns from feedback, a residual on the fusion's score over the event features only. A
    reply's negatives lie above its click by construction: trained on rank features, a model
    learns "deeper is better" (measured: NDCG fell with more log); on taste, co-engagement and
    rates it cannot."""
    sets = _Sets()
    # a query that trained the encoder would tell the fusion to trust its score; a kept
    # encoder was trained in another run, so every query may train the fusion
    for q in queries:
        part = stage[q.qid] if stage[q.qid] != "encoder" else ("fusion" if enc.kept else None)
        listed = cands[q.qid]
        src = "feedback" if q.source == "feedback" else "content"
        rows = list(range(len(listed)))
        if src == "feedback":  # only what the shopper saw is labelled: never shown is not
            rows = [i for i, c in enumerate(listed) if c.product.id in q.grades]  # irrelevant
        if part is None or len(rows) < 2:  # (measured: as zeros, the personal model learns
            continue  # popularity)
        # the fusion is content only: event features would be noise against query grades.
        # Features are of the whole candidate list, as at serving time (ranks, the median
        # price, how common a value is among the candidates), then the labelled rows kept
        full = context.features(
            q, listed, enc.qvecs[q.qid], cfg.event_features and src == "feedback"
        )
        y = [q.grades.get(listed[i].product.id, 0) for i in rows]
        if max(y) == 0:
            continue  # nothing relevant retrieved: no ordering to learn
        if part == "heldout":
            sets.listed_of[q.qid] = (listed, rows, full)
        if (part, src) == ("fusion", "feedback"):
            sets.weights += [q.weights.get(listed[i].product.id, 1.0) for i in rows]
        xs, ys, groups, qs = sets.rows[(part, src)]
        xs.append(full[rows])
        ys += y
        groups.append(len(y))
        qs.append(q)
    if not sets.rows[("fusion", "content")][0]:
        raise ValueError("no fusion training queries with a relevant candidate")
    return sets


class _Models:
    """The fusion and, once there is enough feedback, the personal residual on it."""

    def __init__(self, fusion, personal=None) -> None:
        self.fusion, self.personal = fusion, personal

    def score(self, x: np.ndarray, unseen: np.ndarray) -> np.ndarray:  # a whole list, as served
        s = self.fusion.booster_.predict(x)
        if self.personal is None:
            return s
        residual = self.personal.booster_.predict(x[:, EVENT_COLUMNS])
        return with_personal(s, residual, unseen=unseen)


def _fit_models(sets: _Sets, cfg: TrainConfig) -> _Models:
    _, ys, _, _ = sets.rows[("fusion", "content")]
    fusion = _ranker_model(cfg.fusion_trees, 15, min(10, max(2, len(ys) // 50)), cfg.seed)
    _fit(
        fusion,
        sets.rows[("fusion", "content")][:3],
        sets.rows[("heldout", "content")][:3],
        FEATURES,
    )
    fx, fy, fgroups, _ = sets.rows[("fusion", "feedback")]
    if not (cfg.event_features and len(fgroups) >= MIN_FEEDBACK_QUERIES):
        return _Models(fusion)
    base = lambda xs: [fusion.booster_.predict(x) for x in xs]  # noqa: E731
    personal = _ranker_model(400, 15, 10, cfg.seed, rate=0.1)
    personal.set_params(monotone_constraints=[MONOTONE[f] for f in EVENT_FEATURES])
    train_set = ([x[:, EVENT_COLUMNS] for x in fx], fy, fgroups, base(fx))
    hxs, hys, hgs, _ = sets.rows[("heldout", "feedback")]
    held = ([x[:, EVENT_COLUMNS] for x in hxs], hys, hgs, base(hxs))
    _fit(personal, train_set, held, list(EVENT_FEATURES), sets.weights)
    return _Models(fusion, personal)


def _heldout_metrics(
    sets: _Sets, models: _Models, context: _Context
) -> dict[str, dict[str, float]]:
    """NDCG@10, recall@10 and MRR on the held-out queries: the hybrid order and the ranker's."""
    from ranx import Qrels, Run, evaluate

    hqueries = sets.heldout_queries
    if not hqueries:
        return {}
    qrels = Qrels({q.qid: {k: v for k, v in q.grades.items() if v > 0} for q in hqueries})
    hybrid = Run(
        {
            q.qid: {sets.listed_of[q.qid][0][i].product.id: 1.0 / (i + 1) for i in rows}
            for q in hqueries
            for rows in [sets.listed_of[q.qid][1]]
        }
    )
    ranked = {}
    for q in hqueries:
        listed, rows, full = sets.listed_of[q.qid]
        s = models.score(full, context.stats.unseen(listed, context.own.get(q.session)))
        ranked[q.qid] = {listed[i].product.id: float(s[i]) for i in rows}
    names = ["ndcg@10", "recall@10", "mrr"]
    return {
        "hybrid": {k: float(v) for k, v in evaluate(qrels, hybrid, names).items()},
        "ranker": {k: float(v) for k, v in evaluate(qrels, Run(ranked), names).items()},
    }


def _card(queries, stage, events, cfg, base_model, device, enc, models, metrics, context):
    """The model card: where the training data came from, held-out figures, what mattered."""
    sources: dict[str, dict[str, int]] = {}
    for q in queries:
        s = sources.setdefault(q.source, {"queries": 0, "pairs": 0})
        s["queries"] += 1
        s["pairs"] += len(q.grades)
    importance = dict(
        zip(FEATURES, models.fusion.booster_.feature_importance("gain").tolist(), strict=True)
    )
    if models.personal is not None:
        gains = models.personal.booster_.feature_importance("gain").tolist()
        for f, g in zip(EVENT_FEATURES, gains, strict=True):
            importance[f] += g
    total = sum(importance.values()) or 1.0
    co = context.co
    return ModelCard(
        created=datetime.now(UTC),
        base_model=base_model,
        device=device,
        sources=sources,
        train_queries={
            k: sum(1 for v in stage.values() if v == k) for k in ("encoder", "fusion", "heldout")
        },
        heldout_metrics=metrics,
        training_seconds={},  # filled in by train(), which times the stages
        feature_importance={k: round(v / total, 4) for k, v in importance.items()},
        notes=[
            "the session features (session_sim, taste_*, price_vs_history, co_view, co_cart) "
            "are learned from feedback pairs whose shopper had engaged with products earlier "
            "in the session; synthetic and judged pairs carry no history, so their weight "
            "stays 0 until the event log holds such sessions"
        ],
        events=EventWindow(
            since=cfg.since,
            first=co.first,
            last=co.last,
            events=len(events),
            sessions=len({e.session for e in events}),
            labelled_queries=sources.get("feedback", {}).get("queries", 0),
        ),
        encoder_from=f"{enc.kept.card.created:%Y-%m-%d %H:%M} UTC" if enc.kept else "",
    )


def _save(folder: Path, card: ModelCard, products, enc: _Encoded, models: _Models, context):
    """The model written whole beside the one in use, then swapped in (a reader never sees
    half); a model the gate rejects goes to `<folder>.rejected`."""
    swapped = card.replaced is None or card.replaced.swapped
    target = folder if swapped else folder.with_name(folder.name + ".rejected")
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    enc.model.save(str(tmp / "encoder"))
    np.savez(tmp / "products.npz", ids=np.array([p.id for p in products]), vectors=enc.pvecs)
    models.fusion.booster_.save_model(str(tmp / "fusion.txt"))
    if models.personal is not None:
        models.personal.booster_.save_model(str(tmp / "personal.txt"))
    (tmp / "feedback.json").write_text(context.stats.model_dump_json())
    context.co.save(tmp / "co_engagement.json")
    write_card(tmp, card)
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)


SOURCES = ("content", "feedback")
PARTS = ("fusion", "heldout")
EVENT_COLUMNS = [FEATURES.index(f) for f in EVENT_FEATURES]
MIN_FEEDBACK_QUERIES = 20  # fewer replies with engagement: no personal model yet


def _ranker_model(trees: int, leaves: int, min_child: int, seed: int, rate: float = 0.05):
    import lightgbm as lgb

    return lgb.LGBMRanker(
        objective="lambdarank",
        n_estimators=trees,
        learning_rate=rate,
        num_leaves=leaves,
        min_child_samples=min_child,  # a tiny shop still gets splits
        subsample=0.8,
        subsample_freq=1,
        colsample_bytree=0.8,
        random_state=seed,
        verbose=-1,
    )


def _fit(model, train_set, held, names: list[str], weights=None) -> None:
    """Fit on (rows, labels, groups[, base scores]), early-stopped on the held-out set;
    `weights`: one a row (lambdarank scales each row's gradient by it)."""
    import lightgbm as lgb

    xs, ys, groups, *base = train_set
    args: dict = {"feature_name": names}
    if weights is not None:
        args["sample_weight"] = np.asarray(weights, dtype=float)
    if base:
        args["init_score"] = np.concatenate(base[0])
    if held[2]:
        args |= {
            "eval_set": [(np.vstack(held[0]), held[1])],
            "eval_group": [held[2]],
            "eval_at": list(CUTS),
            "callbacks": [lgb.early_stopping(40, verbose=False)],
        }
        if base:
            args["eval_init_score"] = [np.concatenate(held[3])]
    model.fit(np.vstack(xs), ys, group=groups, **args)


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _kept_encoder(folder: Path, device: str) -> FineTunedRanker:
    if not (folder / "card.json").is_file():
        raise ValueError(f"--keep-encoder: no trained ranker in {folder} to keep the encoder of")
    return FineTunedRanker(folder, device)
