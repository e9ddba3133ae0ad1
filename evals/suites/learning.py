"""`aisle eval learning`: does Aisle learn a pattern that is in its own event log?

Real shoppers' logs do not exist here, so simulated shoppers with **hidden preferences**
shop through the real assistant (`Assistant.respond`, `open_product`, `add_variant`), and
every event is written by Aisle's own code:

- a third prefer one value of one facet and shop two kinds that have it: a facet a product
  has one value of, as a brand or an origin is, found in two kinds (whatever this catalog
  lists most of such; a catalog with none: its most listed facet);
- a quarter are price-sensitive (the cheaper, the likelier to open);
- a quarter buy a set: two kinds that go together (a hidden pairing of this catalog's
  kinds, drawn per run), one carted of each;
- the rest shop one or two kinds with no preference.

A shopper looks down the list (position i is looked at with probability i^-0.5), opens
the products it likes most (right kind, then its preference, plus noise) and carts the
best when it likes it enough. Then, on sessions held out from training:

(a) "also looked at": hit rate@10 of the next product a shopper opens, given the one it
    opened before, for co-views (item-kNN, filled from content), content only, popularity,
    and implicit's ALS on the same sessions;
(b) the ranker: NDCG@10 of the products engaged with (carted 2, opened 1) and of the
    shopper's hidden preference (right kind 1, right kind meeting the preference 2, over
    all candidates, not only those shown), for rankers retrained (encoder kept) on growing
    amounts of log, with and without the event-derived features: the learning curve;
(c) cold start: products whose events were all withheld from training (as if added
    after it), measured the same way.

These are simulated preferences: the claim is that Aisle learns a pattern in its log, not
a figure about real shoppers."""

from __future__ import annotations

import math
import random
import statistics
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from assistant.state import ranking_query
from ranking.co_engagement import VIEW_KINDS, CoEngagement
from ranking.events import Event
from ranking.related import RelatedFinder
from ranking.synthetic import kind_of
from retrieval.schema import Product, SearchRequest

from ..report import SuiteResult, WorstCase
from .simulate import _plural, phrases

SIZES = (0, 100, 1_000, 10_000)
LOOK = 0.5  # position i is looked at with probability i^-LOOK
NOISE = 0.35
K = 10
MAX_HELDOUT = 1_000  # sessions: enough to measure, the rest of a long run trains


class Preference(BaseModel):
    kind: Literal["facet", "price", "set", "none"]
    kinds: list[str]  # the kinds it shops (kind_of specs), in order
    key: str = ""  # facet shoppers: the facet and the value they prefer
    value: str = ""


class SimTurn(BaseModel):
    kind: str
    said: str
    reply_id: str = ""
    ranking_query: str = ""
    history: list[str] = Field(default_factory=list)  # opened or carted before this turn
    shown: list[str] = Field(default_factory=list)
    opened: list[str] = Field(default_factory=list)
    carted: list[str] = Field(default_factory=list)


class SimSession(BaseModel):
    session: str
    preference: Preference
    turns: list[SimTurn] = Field(default_factory=list)

    @property
    def opens(self) -> list[str]:
        return [p for t in self.turns for p in t.opened]


class CurvePoint(BaseModel):
    sessions: int
    features: Literal["with events", "without events"]
    ndcg_engaged: float
    ndcg_preference: float
    ndcg_cold: float | None = None
    train_seconds: float = 0.0
    feedback_queries: int = 0


class LearningReport(BaseModel):
    catalog: str
    sessions: int
    train_sessions: int
    heldout_sessions: int
    cold_products: int
    mix: dict[str, int]
    simulate_seconds: float
    hit_rate: dict[str, float]  # method → hit rate@10 of the next opened product
    hit_rate_cold: dict[str, float]
    next_open_pairs: int
    cold_pairs: int
    curve: list[CurvePoint]
    notes: list[str] = Field(default_factory=list)


# ---- the shoppers ---------------------------------------------------------------------
class Catalog:
    """The kinds a simulated shopper can ask for, their words and products."""

    def __init__(self, products: list[Product], seed: int):
        self.products = [p for p in products if p.visible]
        self.by_id = {p.id: p for p in self.products}
        self.kind: dict[str, str] = {}
        words: dict[str, Counter] = {}
        for p in self.products:
            if k := kind_of(p):
                self.kind[p.id] = k[0]
                words.setdefault(k[0], Counter())[k[1]] += 1
        members = Counter(self.kind.values())
        self.kinds = sorted(k for k, n in members.items() if n >= 3)
        self.word = {k: words[k].most_common(1)[0][0] for k in self.kinds}
        prices: dict[str, list[float]] = {}
        for p in self.products:
            if p.price and p.id in self.kind:
                prices.setdefault(self.kind[p.id], []).append(p.price)
        self.median_price = {k: statistics.median(v) for k, v in prices.items()}
        rng = random.Random(seed)
        order = list(self.kinds)
        rng.shuffle(order)  # the hidden "goes together" pairing of kinds
        self.partner = {}
        for a, b in zip(order[0::2], order[1::2], strict=False):
            self.partner[a], self.partner[b] = b, a
        self.key, self.values = self._preference_facet()

    def _preference_facet(self) -> tuple[str, dict[str, list[str]]]:
        """The facet a shopper's taste is on: one value a product, as a brand or an origin is
        (a value among several tags each product carries, a size it comes in, says little
        of taste), with at least two values found in two kinds; among those the one most
        products list. A catalog with no such facet: the most listed facet with several
        values. Each value with the kinds that have at least two products of it."""
        choices = []
        for key in {k for p in self.products for k in p.facet_keys()}:
            listed = [p for p in self.products if p.values(key)]
            counts = Counter(v.casefold() for p in listed for v in p.values(key))
            n = sum(counts.values())
            if len(counts) < 2 or counts.most_common(1)[0][1] >= 0.6 * n:
                continue
            kinds_of: dict[str, Counter] = {}
            for p in listed:
                if p.id in self.kind:
                    for v in {v.casefold() for v in p.values(key)}:
                        kinds_of.setdefault(v, Counter())[self.kind[p.id]] += 1
            values = {
                v: sorted(k for k, c in ks.items() if c >= 2 and k in self.word)
                for v, ks in kinds_of.items()
            }
            usable = sum(len(ks) >= 2 for ks in values.values())
            single = n / len(listed) <= 1.2
            rank = (usable >= 2 and single, usable >= 2, len(listed), usable)
            choices.append((rank, key, values))
        if not choices:
            return "", {}
        _, key, values = max(choices, key=lambda c: (c[0], c[1]))
        return key, values

    def preference(self, rng: random.Random) -> Preference:
        u = rng.random()
        facet_values = [v for v, ks in self.values.items() if len(ks) >= 2]
        if u < 1 / 3 and facet_values:
            value = rng.choice(facet_values)
            kinds = rng.sample(self.values[value], 2)
            return Preference(kind="facet", kinds=kinds, key=self.key, value=value)
        if u < 1 / 3 + 1 / 4 and self.partner:
            a = rng.choice(sorted(self.partner))
            return Preference(kind="set", kinds=[a, self.partner[a]])
        kinds = rng.sample(self.kinds, min(len(self.kinds), rng.choice([1, 2])))
        return Preference(kind="price" if u < 1 / 3 + 1 / 2 else "none", kinds=kinds)

    def likes(self, pref: Preference, kind: str, p: Product) -> float:
        """The shopper's hidden utility (without noise)."""
        if self.kind.get(p.id) != kind:
            return 0.0
        u = 1.0
        if pref.kind == "facet" and pref.value in {v.casefold() for v in p.values(pref.key)}:
            u += 1.5
        if pref.kind == "price" and p.price and (median := self.median_price.get(kind)):
            u += max(-1.0, min(1.5, 1.5 * (1 - p.price / median)))
        return u

    def grade(self, pref: Preference, kind: str, p: Product) -> int:
        """The hidden preference as a judgment: right kind 1, and meeting it 2."""
        u = self.likes(pref, kind, p)
        return 0 if u <= 0 else (2 if u >= 1.75 else 1)


def _variant(p: Product) -> str | None:
    options = [v for v in p.purchasable_variants() if v.available]
    return options[0].label() if len(options) > 1 else None


def shop(bot, catalog: Catalog, pref: Preference, rng: random.Random, templates) -> SimSession:
    """One session through the real assistant: search each kind, open, cart."""
    sim = SimSession(session=f"sim-{uuid.UUID(int=rng.getrandbits(128)).hex}", preference=pref)
    engaged: list[str] = []
    for kind in pref.kinds:
        said = rng.choice(templates).format(kind=_plural(catalog.word[kind]))
        reply = bot.respond(sim.session, said)
        turn = SimTurn(
            kind=kind,
            said=said,
            reply_id=reply.reply_id,
            ranking_query=ranking_query(reply.state),
            history=list(engaged),
            shown=[i.product.id for i in reply.products],
        )
        looked = []
        for pos, item in enumerate(reply.products, 1):
            if pos == 1 or rng.random() < pos**-LOOK:
                u = catalog.likes(pref, kind, item.product) + rng.gauss(0, NOISE)
                looked.append((u, item.product))
        looked.sort(key=lambda t: -t[0])
        for u, p in looked[:2]:
            if u < 0.9:
                break
            bot.actions.open_product(sim.session, p.id, reply.reply_id)
            turn.opened.append(p.id)
        if turn.opened:
            u, best = looked[0]
            if best.available and (u >= 1.8 or pref.kind == "set"):
                try:
                    bot.actions.add_variant(sim.session, best.id, _variant(best), reply.reply_id)
                    turn.carted.append(best.id)
                except ValueError:
                    pass  # out of stock in every variant: the shopper moves on
        engaged += [p for p in turn.opened if p not in engaged]
        sim.turns.append(turn)
    bot.reset(sim.session)  # the next shopper starts afresh; the events stay in the log
    return sim


def simulate_sessions(
    bot, catalog: Catalog, n: int, seed: int, progress: Callable[[int, int], None] | None = None
) -> list[SimSession]:
    rng = random.Random(seed)
    templates = phrases()["open"]
    out = []
    for i in range(n):
        out.append(shop(bot, catalog, catalog.preference(rng), rng, templates))
        if progress and (i % 20 == 0 or i == n - 1):
            progress(i + 1, n)
    return out


# ---- (a) next product opened ---------------------------------------------------------
def next_open_pairs(sessions: list[SimSession]) -> list[tuple[str, str]]:
    pairs = []
    for s in sessions:
        opens = list(dict.fromkeys(s.opens))
        pairs += list(zip(opens, opens[1:], strict=False))
    return pairs


def _als_neighbours(train_sessions: list[SimSession], ids: list[str], cold: set[str], seed: int):
    """implicit's ALS item factors from the same training sessions (views, carts weighted
    up; the cold products' looks left out, as for co-views), for the comparison; None
    when implicit is not installed."""
    try:
        from implicit.als import AlternatingLeastSquares
        from scipy.sparse import csr_matrix
    except ImportError:
        return None
    col = {pid: i for i, pid in enumerate(ids)}
    rows, cols, vals = [], [], []
    for r, s in enumerate(train_sessions):
        carted = {p for t in s.turns for p in t.carted}
        for p in (set(s.opens) | carted) - cold:
            rows.append(r)
            cols.append(col[p])
            vals.append(3.0 if p in carted else 1.0)
    if not rows:
        return None
    matrix = csr_matrix((vals, (rows, cols)), shape=(len(train_sessions), len(ids)))
    from threadpoolctl import threadpool_limits

    model = AlternatingLeastSquares(factors=32, iterations=15, random_state=seed)
    with threadpool_limits(1, "blas"):  # implicit's own advice: its threads, not BLAS's
        model.fit(matrix, show_progress=False)
    factors = np.asarray(model.item_factors)
    norms = np.linalg.norm(factors, axis=1, keepdims=True)
    factors = factors / np.maximum(norms, 1e-9)

    def neighbours(pid: str, k: int) -> list[str]:
        sims = factors @ factors[col[pid]]
        sims[col[pid]] = -np.inf
        return [ids[i] for i in np.argsort(-sims)[:k]]

    return neighbours


def hit_rates(index, pairs, co: CoEngagement, train_sessions, cold: set[str], seed: int):
    behaviour = RelatedFinder(index, co)
    content = RelatedFinder(index, CoEngagement())
    # every method learns from the same log: the cold products' looks withheld from all
    counts = Counter(p for s in train_sessions for p in set(s.opens) - cold)
    popular = [p for p, _ in counts.most_common(K + 1)]
    als = _als_neighbours(train_sessions, index.ids, cold, seed)
    methods: dict[str, Callable[[str], list[str]]] = {
        "co-views (item-kNN) + content": lambda a: [
            n.product_id for n in behaviour.related(a, K).also_viewed
        ],
        "content only": lambda a: [n.product_id for n in content.related(a, K).also_viewed],
        "popularity": lambda a: [p for p in popular if p != a][:K],
    }
    if als is not None:
        methods["implicit ALS"] = lambda a: als(a, K)
    hits = {m: [] for m in methods}
    cold_hits = {m: [] for m in methods}
    for a, b in pairs:
        for m, f in methods.items():
            hit = float(b in f(a))
            hits[m].append(hit)
            if a in cold or b in cold:
                cold_hits[m].append(hit)
    mean = lambda xs: round(float(np.mean(xs)), 4) if xs else 0.0  # noqa: E731
    return {m: mean(v) for m, v in hits.items()}, {m: mean(v) for m, v in cold_hits.items()}


# ---- (b), (c) the ranker's learning curve --------------------------------------------
def _ndcg(order: list[str], grades: dict[str, int], k: int = K) -> float:
    gain = sum((2 ** grades.get(p, 0) - 1) / math.log2(i + 2) for i, p in enumerate(order[:k]))
    ideal = sorted(grades.values(), reverse=True)[:k]
    best = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return gain / best if best else 0.0


class HeldOutTurn(BaseModel):
    query: str
    history: list[str]
    session: str
    engaged: dict[str, int]
    preference: dict[str, int]
    cold: bool


def curve_point(ranker, turns, cands, by_id, sessions, features, seconds, queries) -> CurvePoint:
    engaged, preferred, cold = [], [], []
    for t in turns:
        history = [by_id[p] for p in t.history if p in by_id]
        scores = ranker.scores(t.query, cands[t.query], history)
        order = [cands[t.query][i].product.id for i in np.argsort(-scores, kind="stable")]
        if t.engaged:
            engaged.append(_ndcg(order, t.engaged))
            if t.cold:
                cold.append(_ndcg(order, t.engaged))
        if any(g == 2 for g in t.preference.values()):
            preferred.append(_ndcg(order, t.preference))
    return CurvePoint(
        sessions=sessions,
        features=features,
        ndcg_engaged=round(float(np.mean(engaged)), 4) if engaged else 0.0,
        ndcg_preference=round(float(np.mean(preferred)), 4) if preferred else 0.0,
        ndcg_cold=round(float(np.mean(cold)), 4) if cold else None,
        train_seconds=round(seconds, 1),
        feedback_queries=queries,
    )


def evaluate(
    bot,
    name: str,
    n_sessions: int,
    sizes: tuple[int, ...] = SIZES,
    seed: int = 0,
    heldout_share: float = 0.2,
    cold_share: float = 0.1,
    synthetic_queries: int = 300,
    progress: Callable[[str, int, int], None] | None = None,
) -> LearningReport:
    index, log = bot.parts.index, _event_log(bot)
    catalog = Catalog(index.all_products(), seed)
    if len(catalog.kinds) < 2:
        raise ValueError("the learning suite needs a catalog with at least two kinds")
    t0 = time.perf_counter()
    say = (lambda d, t: progress("shoppers", d, t)) if progress else None
    sims = simulate_sessions(bot, catalog, n_sessions, seed, say)
    simulate_seconds = time.perf_counter() - t0

    rng = random.Random(seed + 1)
    cold = {p.id for p in catalog.products if rng.random() < cold_share}
    n_held = max(1, min(int(len(sims) * heldout_share), MAX_HELDOUT))
    train_sims, held_sims = sims[:-n_held], sims[-n_held:]
    ours = {s.session for s in sims}
    events = [e for e in log.events() if e.session in ours]
    by_session: dict[str, list[Event]] = {}
    for e in events:
        by_session.setdefault(e.session, []).append(e)

    def window(subset: list[SimSession]) -> list[Event]:
        """The training log: these sessions, without a trace of the cold products."""
        out = []
        for s in subset:
            out += [e for e in by_session.get(s.session, []) if e.product_id not in cold]
        return out

    train_events = window(train_sims)
    co = CoEngagement.from_events(e for e in train_events if e.kind in VIEW_KINDS)
    pairs = next_open_pairs(held_sims)
    hits, cold_hits = hit_rates(index, pairs, co, train_sims, cold, seed)

    turns, cands = _heldout_turns(bot, held_sims, catalog, cold)
    trainer = _Trainer(bot, synthetic_queries, seed, window, progress)
    sizes = tuple(n for n in sizes if n <= len(train_sims)) or (0,)
    with tempfile.TemporaryDirectory() as tmp:
        curve = [
            curve_point(ranker, turns, cands, catalog.by_id, n, label, seconds, queries)
            for n in sizes
            for with_events in (True, False)
            if n > 0 or with_events  # no log: both are the same model
            for label in ["with events" if with_events else "without events"]
            for ranker, seconds, queries in [
                trainer.train(train_sims[:n], with_events, Path(tmp), label)
            ]
        ]
    mix = Counter(s.preference.kind for s in sims)
    return LearningReport(
        catalog=name,
        sessions=len(sims),
        train_sessions=len(train_sims),
        heldout_sessions=len(held_sims),
        cold_products=len(cold),
        mix=dict(mix),
        simulate_seconds=round(simulate_seconds, 1),
        hit_rate=hits,
        hit_rate_cold=cold_hits,
        next_open_pairs=len(pairs),
        cold_pairs=sum(1 for a, b in pairs if a in cold or b in cold),
        curve=curve,
        notes=[
            "simulated shoppers with hidden preferences: Aisle learning a pattern in its "
            "own log, not a figure about real shoppers"
        ],
    )


def _event_log(bot):
    """The event log the simulated sessions are written to, once a trained ranker exists
    (the suite retrains its fusion with the encoder kept)."""
    from ranking.model import ranker_dir

    if not (ranker_dir(bot.parts.index.dir) / "card.json").is_file():
        raise ValueError(
            "the learning suite retrains the fusion on the index's trained ranker (its encoder "
            "kept): run `aisle train-ranker` for this index first"
        )
    if bot.parts.feedback.log is None:
        raise ValueError("the learning suite needs the event log (event_log_enabled)")
    return bot.parts.feedback.log


def _heldout_turns(bot, held_sims, catalog, cold):
    """The held-out shoppers' later turns (personal ranking needs something engaged with
    before), each with its candidates graded by the shopper's hidden preference."""
    later = [(s, t) for s in held_sims for t in s.turns if t.history and t.ranking_query]
    cands = {}
    for _, t in later:
        if t.ranking_query not in cands:
            request = SearchRequest(text=t.ranking_query, k=bot.settings.rerank_depth)
            cands[t.ranking_query] = bot.parts.searcher.search(request).candidates
    turns = [
        HeldOutTurn(
            query=t.ranking_query,
            history=t.history,
            session=s.session,
            engaged={p: 2 if p in t.carted else 1 for p in t.opened},
            preference={
                c.product.id: catalog.grade(s.preference, t.kind, c.product)
                for c in cands[t.ranking_query]
            },
            cold=any(p in cold for p in t.opened),
        )
        for s, t in later
        if cands[t.ranking_query]
    ]
    return turns, cands


class _Trainer:
    """Trains the fusion (the index's encoder kept) on a window of the log, with or without
    the event features; the candidates are searched once for every point of the curve."""

    def __init__(self, bot, synthetic_queries: int, seed: int, window, progress) -> None:
        self.bot, self.window, self.progress = bot, window, progress
        self.synthetic_queries, self.seed = synthetic_queries, seed
        self.cache: dict[str, list] = {}

    def train(self, sims, with_events: bool, tmp: Path, label: str):
        from ranking.model import FineTunedRanker
        from ranking.train import TrainConfig, train

        if self.progress:
            self.progress(f"training on {len(sims)} sessions ({label})", 0, 1)
        t1 = time.perf_counter()
        out = tmp / f"ranker-{len(sims)}-{with_events}"
        card = train(
            self.bot.parts.index,
            TrainConfig(
                synthetic_queries=self.synthetic_queries,
                keep_encoder=True,
                gate=False,
                event_features=with_events,
                seed=self.seed,
            ),
            self.bot.settings.text_model,
            events=self.window(sims),
            progress=False,
            out_dir=out,
            candidates_cache=self.cache,
        )
        queries = card.sources.get("feedback", {}).get("queries", 0)
        return FineTunedRanker(out), time.perf_counter() - t1, queries


def suite_result(report: LearningReport, config: str, name: str, seconds: float) -> SuiteResult:
    headline: dict[str, float] = {}
    for m, v in report.hit_rate.items():
        headline[f"next open hit@10 · {m}"] = v
    for m, v in report.hit_rate_cold.items():
        headline[f"cold next open hit@10 · {m}"] = v
    for point in report.curve:
        tag = f"{point.sessions} sessions, {point.features}"
        headline[f"ndcg@10 engaged · {tag}"] = point.ndcg_engaged
        headline[f"ndcg@10 preference · {tag}"] = point.ndcg_preference
        if point.ndcg_cold is not None:
            headline[f"ndcg@10 cold · {tag}"] = point.ndcg_cold
    curves: dict[str, list[list[float]]] = {}
    start = [p for p in report.curve if p.sessions == 0]
    # no log: with and without events are one model, so both lines start from it
    without = [p.model_copy(update={"features": "without events"}) for p in start]
    for point in sorted([*report.curve, *without], key=lambda p: p.sessions):
        values = {
            "engaged": point.ndcg_engaged,
            "preference": point.ndcg_preference,
            "cold": point.ndcg_cold,
        }
        for metric, value in values.items():
            if value is not None:
                key = f"{metric} · {point.features}"
                curves.setdefault(key, []).append([float(point.sessions), value])
    worst = [
        WorstCase(
            id=f"{p.sessions} sessions ({p.features})",
            asked="training time",
            note=f"{p.train_seconds:.0f} s, {p.feedback_queries} feedback queries",
        )
        for p in report.curve
    ]
    return SuiteResult(
        suite="learning",
        config=config,
        set=name,
        headline=headline,
        curves=curves,
        worst=worst,
        notes=[
            *report.notes,
            f"{report.sessions} simulated sessions ({report.train_sessions} train, "
            f"{report.heldout_sessions} held out) in {report.simulate_seconds:.0f} s; "
            f"mix {report.mix}; {report.cold_products} cold products",
        ],
        seconds=seconds,
        detail=report.model_dump(mode="json"),
    )
