"""`aisle eval retrieval`: NDCG@10, Recall@10/50 and MRR on a set's judged queries
(evals/sets/), for each retrieval signal alone, hybrid retrieval, hybrid + the trained
ranker, and the assistant as a shopper meets it: the query read as a chat turn (its
constraints become filters), searched and ranked.

"chat (5 shown)" against "search (top 5)" is the promise that a conversation is never worse
than the search box: each query as the first turn of a new chat, scored on the products the
reply shows, next to the same index's search (hybrid + ranker, as `aisle search` orders it)
cut to as many. `chat_vs_search` counts the queries where the chat is much worse (NDCG@10
at least 0.2 lower) or starved (it shows at most one product while search's top held more
relevant ones), with a paired bootstrap interval of the mean difference.

Signal rows rank the whole catalog by that signal's own rank; "image" is text→image (the
photo-only signal). The ranker re-orders hybrid's top `depth` candidates, so its Recall@50
equals hybrid's. Unjudged products count as not relevant. Latency of the ranker on 50
candidates is timed as well.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from ranking.judgments import by_query, load_judgments
from ranking.model import FineTunedRanker, ranker_dir
from retrieval.index import ProductIndex
from retrieval.schema import SearchRequest
from retrieval.search import HybridSearcher

from ..report import SuiteResult, WorstCase
from ..sets import EvalSet, load_set

METRICS = ["ndcg@10", "recall@10", "recall@50", "mrr"]
MUCH_WORSE = 0.2  # NDCG@10 lower by this much: a query the shopper would notice
MAX_K = 1_000  # a search returns at most this many; the metrics read the top 50
SIGNAL_ROWS = {"bm25": "lexical", "dense": "dense", "image (text→image)": "image_text"}


class RetrievalReport(BaseModel):
    set: str = "luma"
    split: str
    queries: int
    rows: dict[str, dict[str, float]]
    ranker: str | None
    rank_latency_ms: dict[str, float] = {}
    per_query: dict[str, dict[str, dict[str, float]]] = {}  # row → metric → query → score
    texts: dict[str, str] = {}  # query id → text
    top: dict[str, list[str]] = {}  # query id → the best row's first products
    relevant: dict[str, list[str]] = {}  # query id → judged relevant products
    chat_vs_search: dict[str, float] = {}  # see the module's docstring
    # with an LLM: turns it read, the ones whose shown products it changed, helped, hurt;
    # the chat turn's p50/p95 ms
    llm_reading: dict[str, float] = {}
    chat_shown: dict[str, list[str]] = {}  # query id → the chat's products and its reply


def judged_pairs(path: Path, index: ProductIndex) -> list:
    """A shop's own judged pairs (`query, product_id, grade`, optional `query_id`): every
    bad row is named with its line, and none is skipped silently."""
    good, bad = load_judgments(path, index.ids)
    if bad:
        lines = "; ".join(f"line {b.line}: {b.reason}" for b in bad[:10])
        more = f" (and {len(bad) - 10} more)" if len(bad) > 10 else ""
        raise ValueError(f"{path}: {len(bad)} bad row(s): {lines}{more}")
    if not good:
        raise ValueError(f"{path}: no judged pairs")
    return good


def evaluate(
    index: ProductIndex,
    split: str,
    depth: int = 50,
    ranker_device: str = "cpu",
    eval_set: EvalSet | str = "luma",
    assistant=None,
    judged: Path | None = None,
    ranker=None,
):
    """`assistant`: an `assistant.pipeline.Assistant` on the same index, for the row of
    queries read as chat turns (left out when None). `judged`: a judged-pairs file to use
    instead of the set's (then `eval_set` only names the report). `ranker`: the ranker to
    evaluate (default: the index's trained one, if any)."""
    from ranx import Qrels

    pairs, set_name = _pairs(index, split, eval_set, judged)
    qrels_dict = by_query(pairs)
    texts = {j.qid: j.query for j in pairs}
    runs, candidates = _search_runs(index, texts)
    folder = ranker_dir(index.dir)
    if ranker is None and (folder / "card.json").is_file():
        ranker = FineTunedRanker(folder, ranker_device)
    if ranker is not None and ranker.name == "retrieval-order":
        ranker = None
    latencies = _ranker_run(ranker, texts, candidates, runs, depth, len(index.ids))
    chat = rules = None
    if assistant is not None:
        chat, rules, chat_row, search_row, rules_row = _chat_runs_of(assistant, texts, runs)
    qrels = Qrels(
        {q: {p: g for p, g in grades.items() if g > 0} for q, grades in qrels_dict.items()}
    )
    rows, per_query = _scores(runs, qrels)
    best = "hybrid + ranker" if "hybrid + ranker" in runs else "hybrid"
    top = {
        q: [f"{pid} {index.product(pid).title}" for pid in sorted(r, key=r.get, reverse=True)[:5]]
        for q, r in runs[best].items()
    }
    comparison, llm_reading = {}, {}
    if chat is not None:
        comparison = chat_against_search(
            per_query[chat_row]["ndcg@10"],
            per_query[search_row]["ndcg@10"],
            {q: len(r) for q, r in chat.run.items()},
            _relevant_in(runs[search_row], qrels_dict),
            _relevant_in(chat.run, qrels_dict),
        )
    if rules is not None:
        llm_reading = _llm_reading(
            chat, rules, per_query[chat_row]["ndcg@10"], per_query[rules_row]["ndcg@10"]
        )
    lat = (
        {"p50": float(np.percentile(latencies, 50)), "p95": float(np.percentile(latencies, 95))}
        if latencies
        else {}
    )
    return RetrievalReport(
        set=set_name,
        split=split if judged is None else "file",
        queries=len(texts),
        rows=rows,
        ranker=str(getattr(ranker, "folder", folder)) if ranker else None,
        rank_latency_ms=lat,
        per_query=per_query,
        texts=texts,
        top=top,
        relevant={
            q: sorted(p for p, g in grades.items() if g > 0) for q, grades in qrels_dict.items()
        },
        chat_vs_search=comparison,
        chat_shown=chat.replies if chat else {},
        llm_reading=llm_reading,
    )


def _pairs(index, split: str, eval_set, judged: Path | None):
    """The judged pairs (a file of the shop's, or the set's split) and the set's name."""
    if judged is not None:
        return judged_pairs(judged, index), Path(judged).name
    es = load_set(eval_set) if isinstance(eval_set, str) else eval_set
    pairs = []
    for s in ["dev", "test"] if split == "all" else [split]:
        good, bad = load_judgments(es.file(f"judged-{s}.jsonl"), index.ids)
        if bad:
            raise ValueError(
                f"{es.folder}/judged-{s}.jsonl: line {bad[0].line}: {bad[0].reason} "
                f"(is this index built from {es.catalog}?)"
            )
        pairs += good
    return pairs, es.name


def _search_runs(index, texts: dict[str, str]):
    """The hybrid search's order per query, and each signal's own order; the candidates."""
    searcher = HybridSearcher(index)
    n_products = len(index.ids)
    runs: dict[str, dict[str, dict[str, float]]] = {name: {} for name in SIGNAL_ROWS}
    runs["hybrid"] = {}
    candidates = {}
    for qid, text in texts.items():
        cands = searcher.search(SearchRequest(text=text, k=min(n_products, MAX_K))).candidates
        candidates[qid] = cands
        runs["hybrid"][qid] = {c.product.id: float(n_products - i) for i, c in enumerate(cands)}
        for name, signal in SIGNAL_ROWS.items():
            hits = [c for c in cands if signal in c.signals]
            runs[name][qid] = {
                c.product.id: float(n_products - c.signals[signal].rank) for c in hits
            }
    for row in list(SIGNAL_ROWS):  # a signal this index lacks (photos) is no row at all
        if not any(runs[row].values()):
            del runs[row]
    return runs, candidates


def _ranker_run(ranker, texts, candidates, runs, depth: int, n_products: int) -> list[float]:
    """The ranker's order of each query's top `depth` (hybrid's below), as the row
    "hybrid + ranker"; the milliseconds each ranking took."""
    latencies: list[float] = []
    if ranker is None:
        return latencies
    runs["hybrid + ranker"] = {}
    for qid, text in texts.items():
        t0 = time.perf_counter()
        ranked = ranker.rank(text, candidates[qid][:depth])
        latencies.append((time.perf_counter() - t0) * 1000)
        run = {r.product.id: float(depth * 2 - i) for i, r in enumerate(ranked)}
        # below the re-ordered top `depth`, hybrid's order continues
        tail = runs["hybrid"][qid]
        run |= {pid: s - n_products for pid, s in tail.items() if pid not in run}
        runs["hybrid + ranker"][qid] = run
    return latencies


def _chat_runs_of(assistant, texts, runs):
    """The rows of the queries read as chat turns: as filters, as the chat shows them (and
    with the rules alone when an LLM reads), and search's top as many for comparison."""
    n_products = len(assistant.parts.index.ids)
    with assistant.parts.interpreter.rules_only():
        runs["assistant (turn read as filters)"] = {
            qid: _assistant_run(assistant, text, n_products) for qid, text in texts.items()
        }
    shown = assistant.settings.results_per_turn
    chat_row, search_row = f"chat ({shown} shown)", f"search (top {shown})"
    rules_row = f"chat ({shown} shown, rules only)"
    best = "hybrid + ranker" if "hybrid + ranker" in runs else "hybrid"
    runs[search_row] = {q: _top(r, shown) for q, r in runs[best].items()}
    chat, rules = _chat_runs(assistant, texts), None  # as configured
    if assistant.parts.interpreter.llm is not None:  # the LLM's readings, against the rules'
        with assistant.parts.interpreter.rules_only():
            rules = _chat_runs(assistant, texts)
        runs[rules_row] = rules.run
    runs[chat_row] = chat.run
    return chat, rules, chat_row, search_row, rules_row


def _scores(runs, qrels):
    """Each row's metrics, overall and per query."""
    from ranx import Run
    from ranx import evaluate as ranx_evaluate

    rows, per_query = {}, {}
    for row, run in runs.items():
        run = Run({q: r if r else {"__none__": 0.0} for q, r in run.items()})
        scores = ranx_evaluate(qrels, run, METRICS)
        rows[row] = {k: round(float(v), 4) for k, v in scores.items()}
        per_query[row] = {
            m: {q: round(float(v), 4) for q, v in run.scores[m].items()} for m in METRICS
        }
    return rows, per_query


def _llm_reading(chat, rules, by_llm: dict, by_rules: dict) -> dict:
    """How the LLM's readings changed the chat's lists against the rules' alone."""
    changed = [q for q in chat.read if list(chat.run[q]) != list(rules.run[q])]
    return {
        "read": len(chat.read),
        "changed": len(changed),
        "helped": sum(by_llm[q] > by_rules[q] for q in changed),
        "hurt": sum(by_llm[q] < by_rules[q] for q in changed),
        "turn_p50_ms": round(float(np.percentile(chat.ms, 50)), 1) if chat.ms else 0.0,
        "turn_p95_ms": round(float(np.percentile(chat.ms, 95)), 1) if chat.ms else 0.0,
    }


def _top(run: dict[str, float], n: int) -> dict[str, float]:
    return {p: float(n - i) for i, p in enumerate(sorted(run, key=run.get, reverse=True)[:n])}


@dataclass
class ChatRuns:
    run: dict[str, dict[str, float]] = field(default_factory=dict)  # query → products shown
    replies: dict[str, list[str]] = field(default_factory=dict)  # query → ids, reply's line
    read: list[str] = field(default_factory=list)  # queries the LLM read
    ms: list[float] = field(default_factory=list)  # each turn's time


def _chat_runs(assistant, texts: dict[str, str]) -> ChatRuns:
    """Each query as the first turn of its own new conversation, as a shopper types it: the
    products the reply shows, in order (and the reply, for reading the worst cases)."""
    out = ChatRuns()
    for qid, text in texts.items():
        started = time.perf_counter()
        reply = assistant.respond(f"eval-{uuid.uuid4().hex[:12]}", text)
        out.ms.append((time.perf_counter() - started) * 1000)
        if reply.read_by_llm:
            out.read.append(qid)
        ids = [i.product.id for i in reply.products]
        out.run[qid] = {p: float(len(ids) - i) for i, p in enumerate(ids)}
        out.replies[qid] = [*ids, reply.text.split("\n", 1)[0][:200]]
    return out


def _relevant_in(run: dict[str, dict[str, float]], qrels: dict) -> dict[str, int]:
    """Per query, how many of the run's products are judged relevant."""
    return {q: sum(qrels.get(q, {}).get(p, 0) > 0 for p in r) for q, r in run.items()}


def chat_against_search(
    chat: dict[str, float],
    search: dict[str, float],
    shown: dict[str, int],
    search_relevant: dict[str, int],
    chat_relevant: dict[str, int],
    seed: int = 0,
    draws: int = 2_000,
) -> dict[str, float]:
    """Per-query NDCG@10 of the chat's shown products and of search's top as many: the means,
    the paired bootstrap's 95 % interval of the mean difference, and the queries where the
    chat is much worse or starved."""
    qs = sorted(chat)
    diff = np.array([chat[q] - search[q] for q in qs])
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, len(diff), (draws, len(diff)))].mean(axis=1) if qs else [0.0]
    return {
        "chat": round(float(np.mean([chat[q] for q in qs])), 4) if qs else 0.0,
        "search": round(float(np.mean([search[q] for q in qs])), 4) if qs else 0.0,
        "difference": round(float(diff.mean()), 4) if qs else 0.0,
        "difference_low": round(float(np.percentile(means, 2.5)), 4),
        "difference_high": round(float(np.percentile(means, 97.5)), 4),
        "much_worse": sum(chat[q] <= search[q] - MUCH_WORSE for q in qs),
        "starved": sum(
            shown.get(q, 0) <= 1 and search_relevant.get(q, 0) > chat_relevant.get(q, 0) for q in qs
        ),
        "queries": len(qs),
    }


def suite_result(report: RetrievalReport, config: str, seconds: float) -> SuiteResult:
    """The report in the shape every suite hands the run's report (evals/report.py): the
    best row's metrics as the headline, each row's by name."""
    best = "hybrid + ranker" if "hybrid + ranker" in report.rows else "hybrid"
    headline = dict(report.rows[best])
    c = report.chat_vs_search
    chat_rows = [r for r in report.rows if r.startswith(("chat (", "search (top"))]
    for row in chat_rows:  # first after the best row's: the promise a shop checks first
        headline[f"{row} ndcg@10"] = report.rows[row]["ndcg@10"]
    if c:
        headline |= {"chat much worse": c["much_worse"], "chat starved": c["starved"]}
    for row, m in report.rows.items():
        if row != best and row not in chat_rows:
            headline[f"{row} ndcg@10"] = m["ndcg@10"]
    per_case = dict(report.per_query[best])
    worst_ids = sorted(per_case["ndcg@10"], key=per_case["ndcg@10"].get)[:8]
    worst = [
        WorstCase(
            id=q,
            asked=report.texts.get(q, q),
            shown=report.top.get(q, []),
            expected=", ".join(report.relevant.get(q, [])[:8]),
            note=f"ndcg@10 {per_case['ndcg@10'][q]:.3f} ({best})",
        )
        for q in worst_ids
    ]
    notes = ["unjudged products count as not relevant"]
    if r := report.llm_reading:
        headline |= {
            "llm read": r["read"],
            "llm changed": r["changed"],
            "chat p95 ms": r["turn_p95_ms"],
        }
        notes.append(
            f"the LLM read {r['read']:.0f} first turns, changed the products of "
            f"{r['changed']:.0f} ({r['helped']:.0f} better, {r['hurt']:.0f} worse by NDCG@10); "
            f"a chat turn p50 {r['turn_p50_ms']:.0f} ms, p95 {r['turn_p95_ms']:.0f} ms"
        )
    if c:
        notes.append(
            f"chat against search, each query's first turn: {c['chat']:.3f} vs {c['search']:.3f}"
            f" (difference {c['difference']:+.3f}, 95 % [{c['difference_low']:+.3f}, "
            f"{c['difference_high']:+.3f}]); much worse (≥ {MUCH_WORSE} lower): "
            f"{c['much_worse']:.0f} of {c['queries']:.0f}; starved (≤ 1 shown while search "
            f"held more relevant): {c['starved']:.0f}"
        )
    if report.ranker is None:
        notes.append("no trained ranker for this index: the headline is hybrid retrieval")
    return SuiteResult(
        suite="retrieval",
        config=config,
        set=report.set,
        headline=headline,
        per_case=per_case,
        worst=worst,
        notes=notes,
        seconds=round(seconds, 1),
        detail=report.model_dump(exclude={"per_query", "top", "relevant", "texts", "chat_shown"}),
    )


def _assistant_run(assistant, text: str, n: int) -> dict[str, float]:
    """The query as a shopper's first turn: constraints become filters, then search and rank;
    below what the filters allow, hybrid order continues (so recall is comparable)."""
    from assistant.records import DialogueState
    from assistant.state import apply_turn, ranking_query

    turn = assistant.parts.interpreter.interpret(text, DialogueState()).turn
    state = apply_turn(DialogueState(), turn, assistant.parts.view)
    result = assistant.parts.searcher.search(
        SearchRequest(
            text=state.need or text, filters=state.filters, k=50, colors=turn.colors or None
        )
    )
    ranked = assistant.parts.ranker.rank(ranking_query(state) or text, result.candidates)
    run = {r.product.id: float(2 * n - i) for i, r in enumerate(ranked)}
    rest = assistant.parts.searcher.search(SearchRequest(text=text, k=min(n, MAX_K))).candidates
    run |= {c.product.id: float(n - i) for i, c in enumerate(rest) if c.product.id not in run}
    return run


def print_report(report: RetrievalReport) -> None:
    print(f"{report.set}: judged queries: {report.queries} ({report.split} split)")
    print(f"{'':34}" + "".join(f"{m:>11}" for m in METRICS))
    for name, m in report.rows.items():
        print(f"{name:34}" + "".join(f"{m[k]:>11.3f}" for k in METRICS))
    if report.rank_latency_ms:
        lat = report.rank_latency_ms
        print(f"ranker on 50 candidates: p50 {lat['p50']:.1f} ms, p95 {lat['p95']:.1f} ms")
    elif report.ranker is None:
        print("no trained ranker for this index: run `aisle train-ranker`")
    if c := report.chat_vs_search:
        print(
            f"chat against search on the {c['queries']:.0f} queries' first turn: "
            f"{c['chat']:.3f} vs {c['search']:.3f} (difference {c['difference']:+.3f}, 95 % "
            f"[{c['difference_low']:+.3f}, {c['difference_high']:+.3f}]); much worse: "
            f"{c['much_worse']:.0f}, starved: {c['starved']:.0f}"
        )


def save(report: RetrievalReport, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.model_dump(), indent=2))
