"""Shoppers' feedback (the event log) turned into graded pairs, with care for position
bias (Joachims et al. 2017, unbiased learning to rank from biased feedback): shoppers look
at the top of a list more, so

- in a reply the shopper engaged with (or gave a thumbs down), every product shown and not
  opened or carted is a negative (grade 0); a reply with no engagement says nothing;
- positives are weighted by inverse propensity, 1 / P(seen at position p) with
  P = p^-eta, capped so one deep click cannot dominate; the personal model is fitted
  with these weights.

Measured on simulated shoppers (README, "Collaborative signals"): counting only the
products shown above a click as negatives left the products shown below it (often another
kind) unlabelled, and the personal model learned to lift those.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .events import Event
from .judgments import MAX_GRADE, Judgment

MAX_WEIGHT = 5.0


@dataclass
class _Reply:
    query: str
    session: str
    history: list[str] = field(default_factory=list)  # engaged with earlier in the session
    shown: dict[str, int] = field(default_factory=dict)  # product id → position
    clicked: set[str] = field(default_factory=set)
    carted: set[str] = field(default_factory=set)
    thumbs: int = 0  # +1 up, -1 down (the last one given)


def labels_from_events(events: Iterable[Event], eta: float = 1.0) -> list[Judgment]:
    replies: dict[str, _Reply] = {}
    actions: list[Event] = []
    engaged: dict[str, list[str]] = {}  # session → products opened or carted so far
    for e in events:  # in the order they were logged
        if e.kind in ("click", "cart_add") and e.product_id:
            seen = engaged.setdefault(e.session, [])
            seen[:] = [*[p for p in seen if p != e.product_id], e.product_id]
        if e.reply_id is None:
            continue
        if e.kind == "impression" and e.detail.get("shown_as", "search") != "search":
            continue  # a list shown for a product ("goes well with"), not for the query
        if e.kind == "impression" and e.product_id and e.position:
            query = e.detail.get("ranking_query") or e.query
            history = list(engaged.get(e.session, []))[-10:]
            reply = _Reply(query=query, session=e.session, history=history)
            r = replies.setdefault(e.reply_id, reply)
            r.shown[e.product_id] = e.position
        else:
            actions.append(e)
    for e in actions:  # after all impressions: a click may be logged before a late write
        r = replies.get(e.reply_id)
        if r is None:
            continue
        if e.kind == "click" and e.product_id:
            r.clicked.add(e.product_id)
        elif e.kind == "cart_add" and e.product_id:
            r.carted.add(e.product_id)
        elif e.kind in ("thumbs_up", "thumbs_down"):
            r.thumbs = 1 if e.kind == "thumbs_up" else -1

    out: list[Judgment] = []
    for reply_id, r in replies.items():
        if not r.query.strip():
            continue
        engaged = r.clicked | r.carted
        for product, position in r.shown.items():
            if product in engaged:
                grade = 2 if product in r.carted else 1
                grade = min(MAX_GRADE, grade + (r.thumbs > 0))
                weight = min(MAX_WEIGHT, float(position) ** eta)
            elif engaged or r.thumbs < 0:
                grade, weight = 0, 1.0
            else:
                continue  # maybe never looked at: no label
            out.append(
                Judgment(
                    query=r.query,
                    product_id=product,
                    grade=grade,
                    weight=weight,
                    source="feedback",
                    query_id=f"feedback:{reply_id}",
                    history=r.history,
                    session=r.session,
                )
            )
    return out
