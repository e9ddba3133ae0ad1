"""The features the learned fusion sees for one (query, candidate) pair: the fine-tuned
model's score, each retrieval signal, how well the product fits the soft parts of the
request, price position, rating and reviews, shoppers' feedback rates, and similarity to
what this shopper engaged with earlier in the session: its vectors, the facet values and
prices it shares with them (taste), and how often shoppers opened or carted it together
with them (co-engagement, ranking/co_engagement.py)."""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable

import numpy as np
from pydantic import BaseModel, Field

from base.language.general import language
from base.language.text import normalise, term, words
from retrieval.schema import Candidate, Product

from .co_engagement import CoEngagement, SessionItems
from .events import Event

SIGNALS = ("lexical", "dense", "image_text", "color", "image")
MISSING_RANK = 1000.0
# learned only from the event log: zero in every synthetic or judged training pair
EVENT_FEATURES = (
    "ctr",
    "cart_rate",
    "session_sim",
    "taste_max",
    "taste_mean",
    "taste_specific",
    "price_vs_history",
    "co_view",
    "co_cart",
    "log_engaged",
)
# The personal model's prior: sharing more with what the shopper engaged with, being
# opened or carted with it by others, being opened and carted more, never makes a product
# less likely (a price is better near theirs, either side). Measured on simulated shoppers:
# unconstrained, its trees learned shapes that held only where it was trained (the top of
# the lists shoppers were shown) and lowered the hidden-preference NDCG.
MONOTONE = {f: 0 if f == "price_vs_history" else 1 for f in EVENT_FEATURES}
FEATURES = (
    "model",
    "model_rank",
    *[f"{s}_score" for s in SIGNALS],
    *[f"{s}_rank" for s in SIGNALS],
    "fused",
    "retrieval_rank",
    "fit",
    "title_fit",
    "price_rel",
    "log_price",
    "rating",
    "log_reviews",
    *EVENT_FEATURES,
    "has_photo",
)


@functools.lru_cache(maxsize=32768)  # the same titles and descriptions, every turn
def terms(text: str) -> frozenset[str]:
    """Content words as matching keys (the one tokeniser, base/language/text.py),
    filler left out: enough to tell whether a product mentions them."""
    filler = language().filler
    return frozenset(term(w) for w in words(text) if w not in filler and len(w) >= 2)


class FeedbackStats(BaseModel):
    """Per-product impressions, clicks and cart adds from the event log, smoothed towards
    the shop-wide rate so a product shown twice is not judged on two impressions."""

    impressions: dict[str, int] = Field(default_factory=dict)
    clicks: dict[str, int] = Field(default_factory=dict)
    carts: dict[str, int] = Field(default_factory=dict)
    prior_strength: float = 20.0

    @classmethod
    def from_events(cls, events: Iterable[Event]) -> FeedbackStats:
        stats = cls()
        table = {"impression": stats.impressions, "click": stats.clicks, "cart_add": stats.carts}
        for e in events:
            if e.product_id and e.kind in table:
                counts = table[e.kind]
                counts[e.product_id] = counts.get(e.product_id, 0) + 1
        return stats

    # the shop-wide sums, once: `rates` is asked for every candidate of every turn
    @functools.cached_property
    def _sums(self) -> tuple[int, int, int]:
        return tuple(sum(d.values()) for d in (self.impressions, self.clicks, self.carts))

    def unseen(self, candidates: list[Candidate], own: SessionItems | None = None) -> np.ndarray:
        """Which candidates the log never showed (`own`: a session left out)."""
        own = own or SessionItems()
        shown = self.impressions
        return np.array(
            [shown.get(c.product.id, 0) - (c.product.id in own.shown) <= 0 for c in candidates]
        )

    def rates(self, product_id: str, own: SessionItems | None = None) -> tuple[float, float]:
        """Click and cart rates; `own`: a session left out (a training query's own clicks
        would otherwise raise the rate of exactly the products it labels relevant)."""
        shown_all, all_clicks, all_carts = self._sums
        if not shown_all:
            return 0.0, 0.0
        base_click = all_clicks / shown_all
        base_cart = all_carts / shown_all
        own = own or SessionItems()
        shown = self.impressions.get(product_id, 0) - (product_id in own.shown)
        clicks = self.clicks.get(product_id, 0) - (product_id in own.clicked)
        carts = self.carts.get(product_id, 0) - (product_id in own.carted)
        n = max(shown, 0) + self.prior_strength
        click = (max(clicks, 0) + self.prior_strength * base_click) / n
        cart = (max(carts, 0) + self.prior_strength * base_cart) / n
        return click, cart


def _text_of(p: Product) -> set[str]:
    values = [v for k in p.facet_keys() for v in p.values(k)]
    return terms(" ".join([p.title, p.category.replace("/", " "), *values]))


class Taste:
    """What the shopper engaged with earlier in the session, as a candidate meets it: the
    share of those products that share a facet value with it (best key, and the mean over
    its keys; no key is named: brand, colour, origin, whatever this catalog lists), its
    price against theirs, and co-engagement with them."""

    def __init__(
        self,
        history: list[Product],
        co: CoEngagement | None = None,
        own: SessionItems | None = None,
    ):
        self.history = history
        self.co = co
        self.own = own or SessionItems()
        self._values = [
            {normalise(k): {v.casefold() for v in h.values(k)} for k in h.facet_keys()}
            for h in history
        ]
        prices = [h.price for h in history if h.price]
        self.price = float(np.mean(prices)) if prices else None
        self._common: dict[tuple[str, str], float] = {}  # set per candidate list (`among`)

    def among(self, candidates: list[Product]) -> None:
        """How common each facet value is among the candidates: a value they nearly all
        share (a material most of them are made of) says little about taste."""
        counts: dict[tuple[str, str], int] = {}
        for c in candidates:
            for k in c.facet_keys():
                for v in {v.casefold() for v in c.values(k)}:
                    counts[(normalise(k), v)] = counts.get((normalise(k), v), 0) + 1
        self._common = {kv: n / max(len(candidates), 1) for kv, n in counts.items()}

    def row(self, p: Product) -> dict[str, float]:
        row: dict[str, float] = {}
        if self.history:
            shares, specific = [], 0.0
            common = self._common
            for k in p.facet_keys():
                mine = {v.casefold() for v in p.values(k)}
                key = normalise(k)
                share = sum(bool(mine & h.get(key, set())) for h in self._values)
                shares.append(share)
                for v in mine:  # a shared value, weighed by how rare it is among the candidates
                    had = sum(v in h.get(key, ()) for h in self._values)
                    if had:
                        rare = 1.0 - common.get((key, v), 1.0)
                        specific = max(specific, had / len(self.history) * rare)
            n = len(self.history)
            row["taste_max"] = max(shares, default=0) / n
            row["taste_mean"] = (sum(shares) / len(shares) / n) if shares else 0.0
            row["taste_specific"] = specific
            if self.price and p.price:
                row["price_vs_history"] = math.log(p.price / self.price)
        if self.co is not None:
            # (a model whose counts never held this session: nothing to leave out)
            seen = self.co.popularity(p.id) - (p.id in self.own.viewed)
            row["log_engaged"] = math.log1p(max(seen, 0))
            for h in self.history:
                if h.id == p.id:
                    continue
                view = self.co.viewed.similarity(h.id, p.id, self.own.viewed)
                cart = self.co.carted.similarity(h.id, p.id, self.own.carted)
                row["co_view"] = max(row.get("co_view", 0.0), view)
                row["co_cart"] = max(row.get("co_cart", 0.0), cart)
        return row


def feature_matrix(
    query: str,
    candidates: list[Candidate],
    model_scores: np.ndarray,
    stats: FeedbackStats | None = None,
    session_sims: np.ndarray | None = None,
    taste: Taste | None = None,
) -> np.ndarray:
    n = len(candidates)
    x = np.zeros((n, len(FEATURES)), np.float32)
    if n == 0:
        return x
    want = terms(query)
    if taste is not None:
        taste.among([c.product for c in candidates])
    prices = [c.product.price for c in candidates if c.product.price]
    median = float(np.median(prices)) if prices else 0.0
    model_rank = np.empty(n)
    model_rank[np.argsort(-model_scores, kind="stable")] = np.arange(1, n + 1)
    for i, c in enumerate(candidates):
        p = c.product
        row: dict[str, float] = {"model": float(model_scores[i]), "model_rank": model_rank[i]}
        for s in SIGNALS:
            sig = c.signals.get(s)
            row[f"{s}_score"] = sig.score if sig else 0.0
            row[f"{s}_rank"] = float(sig.rank) if sig else MISSING_RANK
        row["fused"] = c.score
        row["retrieval_rank"] = float(i + 1)
        have = _text_of(p)
        row["fit"] = len(want & (have | terms(p.description))) / len(want) if want else 0.0
        row["title_fit"] = len(want & terms(p.title)) / len(want) if want else 0.0
        if p.price and median:
            row["price_rel"] = p.price / median - 1.0
            row["log_price"] = math.log1p(p.price)
        row["rating"] = p.rating or 0.0
        row["log_reviews"] = math.log1p(p.review_count)
        if stats is not None:
            row["ctr"], row["cart_rate"] = stats.rates(p.id, taste.own if taste else None)
        if session_sims is not None:
            row["session_sim"] = float(session_sims[i])
        row["has_photo"] = float(bool(p.images))
        if taste is not None:
            row |= taste.row(p)
        x[i] = [row.get(f, 0.0) for f in FEATURES]
    if stats is not None and taste is not None and taste.co is not None:
        _unknown_is_typical(x, candidates, stats, taste.own)
    return x


def _unknown_is_typical(
    x: np.ndarray, candidates: list[Candidate], stats: FeedbackStats, own: SessionItems
) -> None:
    """A product the log never showed (added since, or never retrieved) has no popularity
    to speak of, which is not the same as being unpopular: it gets the median of the
    shown candidates beside it. Measured on simulated shoppers: with a zero there, the
    personal model pushed every new product below the known ones."""
    col = FEATURES.index("log_engaged")
    unseen = stats.unseen(candidates, own)
    if unseen.any() and not unseen.all():
        x[unseen, col] = np.median(x[~unseen, col])
