"""`aisle eval replay`: the event log's impressions replayed through a candidate
configuration. Each logged reply that shoppers engaged with (a click or a cart add on one
of its products) is re-ranked by the candidate's ranker — the same products, their
retrieval signals recomputed for the logged query and filters, the shopper's earlier
engagement as history — and scored by where the engaged products land: NDCG@10 and MRR
(cart add grade 2, click 1), with the logged order as the baseline, computed with ranx.

Only pseudonymous data is read: sessions are random per conversation, queries were
redacted when they were logged. Products no longer in the catalog are left out of their
impression; an impression left with fewer than two products is skipped."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from pydantic import BaseModel

from ranking.events import Event
from retrieval.schema import Candidate, SearchFilters, SearchRequest

from ..report import SuiteResult, WorstCase, paired_bootstrap

GRADES = {"click": 1, "cart_add": 2}
METRICS = ["ndcg@10", "mrr"]


@dataclass
class LoggedReply:
    reply_id: str
    session: str
    query: str
    filters: str = ""
    history: list[str] = field(default_factory=list)
    shown: dict[str, int] = field(default_factory=dict)  # product id → position
    engaged: dict[str, int] = field(default_factory=dict)  # product id → grade


class ReplayReport(BaseModel):
    impressions: int  # logged replies with engagement that were replayed
    skipped: int
    ranker: str
    logged: dict[str, float]
    candidate: dict[str, float]
    per_case: dict[str, dict[str, dict[str, float]]]  # "logged"/"candidate" → metric → reply
    moved: list[dict]  # the replies whose engaged product moved down the most


def logged_replies(events: Iterable[Event]) -> list[LoggedReply]:
    """Impressions grouped by reply, with what the shopper then did (in log order)."""
    replies: dict[str, LoggedReply] = {}
    engaged: dict[str, list[str]] = {}
    actions = []
    for e in events:
        if e.kind in GRADES and e.product_id:
            seen = engaged.setdefault(e.session, [])
            seen[:] = [*[p for p in seen if p != e.product_id], e.product_id]
        if e.reply_id is None:
            continue
        if e.kind == "impression" and e.product_id and e.position:
            r = replies.get(e.reply_id)
            if r is None:
                r = replies[e.reply_id] = LoggedReply(
                    reply_id=e.reply_id,
                    session=e.session,
                    query=e.detail.get("ranking_query") or e.query,
                    filters=e.detail.get("filters", ""),
                    history=[p for p in engaged.get(e.session, [])][-10:],
                )
            r.shown[e.product_id] = e.position
        elif e.kind in GRADES and e.product_id:
            actions.append(e)
    for e in actions:
        r = replies.get(e.reply_id)
        if r is not None and e.product_id in r.shown:
            r.engaged[e.product_id] = max(r.engaged.get(e.product_id, 0), GRADES[e.kind])
    return [r for r in replies.values() if r.engaged]


def replay(events: Iterable[Event], searcher, ranker, index) -> ReplayReport:
    from ranx import Qrels, Run
    from ranx import evaluate as ranx_evaluate

    replies = logged_replies(events)
    qrels, logged, candidate, kept, skipped = {}, {}, {}, [], 0
    for r in replies:
        products = {pid: p for pid in r.shown if (p := index.product(pid)) is not None}
        if len(products) < 2 or not set(r.engaged) & set(products):
            skipped += 1
            continue
        try:
            filters = SearchFilters.model_validate_json(r.filters) if r.filters else SearchFilters()
        except ValueError:
            filters = SearchFilters()
        found = searcher.search(SearchRequest(text=r.query, filters=filters, k=200)).candidates
        signals = {c.product.id: c for c in found}
        cands = [
            signals.get(pid) or Candidate(product=p, score=0.0)
            for pid, p in sorted(products.items(), key=lambda kv: r.shown[kv[0]])
        ]
        history = [p for pid in r.history if (p := index.product(pid))]
        ranked = ranker.rank(r.query, cands, history)
        n = len(cands)
        qrels[r.reply_id] = {pid: g for pid, g in r.engaged.items() if pid in products}
        logged[r.reply_id] = {pid: float(n - r.shown[pid]) for pid in products}
        candidate[r.reply_id] = {it.product.id: float(n - i) for i, it in enumerate(ranked)}
        kept.append(r)
    if not kept:
        return ReplayReport(
            impressions=0,
            skipped=skipped,
            ranker=ranker.name,
            logged={},
            candidate={},
            per_case={},
            moved=[],
        )
    q = Qrels(qrels)
    rows, per_case = {}, {}
    for name, run in (("logged", logged), ("candidate", candidate)):
        run_ = Run(run)
        rows[name] = {k: round(float(v), 4) for k, v in ranx_evaluate(q, run_, METRICS).items()}
        per_case[name] = {m: {k: float(v) for k, v in run_.scores[m].items()} for m in METRICS}
    moved = sorted(
        kept,
        key=lambda r: (
            per_case["candidate"]["mrr"][r.reply_id] - per_case["logged"]["mrr"][r.reply_id]
        ),
    )[:10]
    return ReplayReport(
        impressions=len(kept),
        skipped=skipped,
        ranker=ranker.name,
        logged=rows["logged"],
        candidate=rows["candidate"],
        per_case=per_case,
        moved=[
            {
                "reply": r.reply_id,
                "query": r.query,
                "engaged": sorted(r.engaged),
                "logged": sorted(logged[r.reply_id], key=logged[r.reply_id].get, reverse=True),
                "candidate": sorted(
                    candidate[r.reply_id], key=candidate[r.reply_id].get, reverse=True
                ),
            }
            for r in moved
        ],
    )


def suite_result(report: ReplayReport, config: str, set_name: str, seconds: float) -> SuiteResult:
    headline = {**report.candidate}
    headline |= {f"logged {k}": v for k, v in report.logged.items()}
    headline["impressions"] = float(report.impressions)
    notes = []
    if report.impressions:
        for m in METRICS:
            d, low, high, _ = paired_bootstrap(
                report.per_case["logged"][m], report.per_case["candidate"][m]
            )
            notes.append(
                f"{m}: candidate − logged order {d:+.3f} (95 % interval {low:+.3f} … {high:+.3f})"
            )
    notes += [
        f"ranker: {report.ranker}; baseline: the order shoppers were shown; "
        f"{report.skipped} impression(s) skipped (products gone, or fewer than two)"
    ]
    if report.impressions == 0:
        notes.append("the event log has no impressions with clicks or cart adds to replay")
    return SuiteResult(
        suite="replay",
        config=config,
        set=set_name,
        headline=headline,
        per_case={
            **report.per_case.get("candidate", {}),
            **{f"logged {m}": v for m, v in report.per_case.get("logged", {}).items()},
        },
        worst=[
            WorstCase(
                id=m["reply"][:12],
                asked=m["query"],
                shown=m["candidate"],
                expected="engaged: " + ", ".join(m["engaged"]),
                note="logged order: " + ", ".join(m["logged"][:5]),
            )
            for m in report.moved
        ],
        notes=notes,
        seconds=round(seconds, 1),
        detail=report.model_dump(exclude={"per_case"}),
    )
