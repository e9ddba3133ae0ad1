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
from .events import Event
from .features import FEATURES, FeedbackStats, feature_matrix
from .feedback_labels import labels_from_events
from .judgments import Judgment, by_query
from .model import MAX_SEQ, ModelCard, ranker_dir, write_card

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


class Query(BaseModel):
    qid: str
    text: str
    grades: dict[str, int]  # product id → grade; missing = 0
    weights: dict[str, float] = Field(default_factory=dict)
    source: str
    history: list[str] = Field(default_factory=list)  # the shopper's earlier products


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


def _features(q: Query, cands: list[Candidate], qvec, pvecs, row_of, stats) -> np.ndarray:
    vecs = np.stack([pvecs[row_of[c.product.id]] for c in cands])
    sims = None
    rows = [row_of[p] for p in q.history if p in row_of]
    if rows:  # as at serving time: similarity to the mean of what the shopper engaged with
        taste = pvecs[rows].mean(axis=0)
        sims = vecs @ (taste / max(float(np.linalg.norm(taste)), 1e-9))
    return feature_matrix(q.text, cands, vecs @ qvec, stats, sims)


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
) -> ModelCard:
    import lightgbm as lgb
    from ranx import Qrels, Run, evaluate
    from tqdm.auto import tqdm

    t0 = time.perf_counter()
    rng = random.Random(cfg.seed)
    events = events or []
    products = index.products(list(range(len(index.ids))))
    texts = {p.id: product_text(p) for p in products}
    queries = [
        q for q in gather(products, cfg, judged or [], events, rewrite, index.lexicon) if q.grades
    ]
    t_queries = time.perf_counter() - t0  # includes the LLM's paraphrases, when asked for
    if not queries:
        raise ValueError("no training queries: the catalog has no categories to build them from")
    stage = {q.qid: _stage(q.qid, cfg) for q in queries}

    searcher = HybridSearcher(index)
    cands: dict[str, list[Candidate]] = {}
    for q in tqdm(queries, desc="candidates", unit="query", disable=not progress):
        cands[q.qid] = searcher.search(SearchRequest(text=q.text, k=cfg.candidates)).candidates
    t_cands = time.perf_counter() - t0 - t_queries

    t1 = time.perf_counter()
    enc_queries = [q for q in queries if stage[q.qid] == "encoder"]
    model = fine_tune(
        base_model, _triplets(enc_queries, cands, texts, cfg, rng), cfg, device, progress
    )
    pvecs = model.encode(
        [texts[p.id] for p in products], normalize_embeddings=True, show_progress_bar=progress
    )
    qvecs = dict(
        zip(
            [q.qid for q in queries],
            model.encode([q.text for q in queries], normalize_embeddings=True),
            strict=True,
        )
    )
    t_encoder = time.perf_counter() - t1

    t2 = time.perf_counter()
    row_of = {p.id: i for i, p in enumerate(products)}
    stats = FeedbackStats.from_events(events)
    sets: dict[str, tuple[list, list, list, list]] = {
        "fusion": ([], [], [], []),
        "heldout": ([], [], [], []),
    }
    for q in queries:
        part = stage[q.qid] if stage[q.qid] != "encoder" else None
        if part is None or not cands[q.qid]:
            continue
        x = _features(q, cands[q.qid], qvecs[q.qid], pvecs, row_of, stats)
        y = [q.grades.get(c.product.id, 0) for c in cands[q.qid]]
        if max(y) == 0:
            continue  # nothing relevant retrieved: no ordering to learn
        xs, ys, groups, qs = sets[part]
        xs.append(x)
        ys += y
        groups.append(len(y))
        qs.append(q)
    xs, ys, groups, _ = sets["fusion"]
    hx, hy, hgroups, hqueries = sets["heldout"]
    if not xs:
        raise ValueError("no fusion training queries with a relevant candidate")
    fusion = lgb.LGBMRanker(
        objective="lambdarank",
        n_estimators=400,
        learning_rate=0.05,
        num_leaves=15,
        min_child_samples=min(10, max(2, len(ys) // 50)),  # a tiny shop still gets splits
        subsample=0.8,
        subsample_freq=1,
        colsample_bytree=0.8,
        random_state=cfg.seed,
        verbose=-1,
    )
    fit_args = {}
    if hx:
        fit_args = {
            "eval_set": [(np.vstack(hx), hy)],
            "eval_group": [hgroups],
            "eval_at": list(CUTS),
            "callbacks": [lgb.early_stopping(40, verbose=False)],
        }
    fusion.fit(np.vstack(xs), ys, group=groups, feature_name=list(FEATURES), **fit_args)
    t_fusion = time.perf_counter() - t2

    metrics: dict[str, dict[str, float]] = {}
    if hqueries:
        qrels = Qrels({q.qid: {k: v for k, v in q.grades.items() if v > 0} for q in hqueries})
        hybrid = Run(
            {
                q.qid: {c.product.id: 1.0 / (i + 1) for i, c in enumerate(cands[q.qid])}
                for q in hqueries
            }
        )
        ranked = {}
        for q, x in zip(hqueries, hx, strict=True):
            s = fusion.booster_.predict(x)
            ranked[q.qid] = {c.product.id: float(v) for c, v in zip(cands[q.qid], s, strict=True)}
        names = ["ndcg@10", "recall@10", "mrr"]
        metrics["hybrid"] = {k: float(v) for k, v in evaluate(qrels, hybrid, names).items()}
        metrics["ranker"] = {k: float(v) for k, v in evaluate(qrels, Run(ranked), names).items()}

    sources: dict[str, dict[str, int]] = {}
    for q in queries:
        s = sources.setdefault(q.source, {"queries": 0, "pairs": 0})
        s["queries"] += 1
        s["pairs"] += len(q.grades)
    importance = dict(
        zip(FEATURES, fusion.booster_.feature_importance("gain").tolist(), strict=True)
    )
    total = sum(importance.values()) or 1.0
    card = ModelCard(
        created=datetime.now(UTC),
        base_model=base_model,
        device=device,
        sources=sources,
        train_queries={
            k: sum(1 for v in stage.values() if v == k) for k in ("encoder", "fusion", "heldout")
        },
        heldout_metrics=metrics,
        training_seconds={
            "queries": t_queries,
            "candidates": t_cands,
            "encoder": t_encoder,
            "fusion": t_fusion,
            "total": time.perf_counter() - t0,
        },
        feature_importance={k: round(v / total, 4) for k, v in importance.items()},
        notes=[
            "session_sim is learned from feedback pairs whose shopper had engaged with "
            "products earlier in the session; synthetic and judged pairs carry no history, "
            "so its weight stays 0 until the event log holds such sessions"
        ],
    )

    folder = out_dir or ranker_dir(index.dir)
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    model.save(str(tmp / "encoder"))
    np.savez(tmp / "products.npz", ids=np.array([p.id for p in products]), vectors=pvecs)
    fusion.booster_.save_model(str(tmp / "fusion.txt"))
    (tmp / "feedback.json").write_text(stats.model_dump_json())
    write_card(tmp, card)
    shutil.rmtree(folder, ignore_errors=True)  # swap in whole: a reader never sees half
    tmp.rename(folder)
    return card
