"""Co-engagement from a tiny hand-written log: the expected neighbours, shrinkage, and one
session left out exactly; the taste features a session's history gives a candidate."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from ranking.co_engagement import SHRINK, CoEngagement
from ranking.events import Event
from ranking.features import EVENT_FEATURES, FEATURES, Taste, feature_matrix
from retrieval.schema import Candidate, Product

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def log(sessions: dict[str, list[tuple[str, str]]]) -> list[Event]:
    out, n = [], 0
    for session, actions in sessions.items():
        for kind, pid in actions:
            n += 1
            out.append(Event(kind=kind, session=session, product_id=pid, at=T0 + timedelta(n)))
    return out


EVENTS = log(
    {
        "s1": [("click", "A"), ("click", "B"), ("cart_add", "B"), ("cart_add", "X")],
        "s2": [("click", "A"), ("click", "B")],
        "s3": [("click", "A"), ("click", "B"), ("impression", "C")],  # shown is not a look
        "s4": [("click", "A"), ("click", "C")],
        "s5": [("click", "D"), ("cart_add", "B"), ("cart_add", "X")],
    }
)


def test_co_views_give_the_expected_neighbours_best_first():
    co = CoEngagement.from_events(EVENTS)
    assert co.sessions == 5 and co.first == EVENTS[0].at and co.last == EVENTS[-1].at
    near = co.viewed.neighbours("A", 5)
    # B: three sessions; C and X one each (a cart add is a look too), C seen less overall
    assert [n for n, _, _ in near] == ["B", "C", "X"]
    assert [c for _, _, c in near] == [3, 1, 1]
    # cosine with Koren's shrinkage: c / sqrt(n_a n_b) * c / (c + shrink)
    n_a, n_b = 4, 4  # sessions that opened or carted A, B
    assert near[0][1] == pytest.approx(3 / (n_a * n_b) ** 0.5 * 3 / (3 + SHRINK))
    assert co.popularity("B") == 4 and co.popularity("C") == 1
    # carts: only what went into a cart together
    assert [n for n, _, _ in co.carted.neighbours("X", 5)] == ["B"]
    assert co.carted.together("B", "X") == 2 and co.carted.together("A", "B") == 0


def test_one_session_is_left_out_exactly():
    co = CoEngagement.from_events(EVENTS)
    without_s4 = CoEngagement.from_events([e for e in EVENTS if e.session != "s4"])
    own = {"A", "C"}  # s4's looks
    assert co.viewed.similarity("A", "C", own) == without_s4.viewed.similarity("A", "C") == 0
    assert co.viewed.similarity("A", "B", own) == pytest.approx(
        without_s4.viewed.similarity("A", "B")
    )


def test_the_counts_survive_a_save(tmp_path):
    co = CoEngagement.from_events(EVENTS)
    co.save(tmp_path / "co.json")
    again = CoEngagement.load(tmp_path / "co.json")
    assert again == co and CoEngagement.load(tmp_path / "missing.json") is None


def _product(pid, **attrs) -> Product:
    price = float(attrs.pop("price", 10))
    return Product(id=pid, title=pid, price=price, attributes={k: [v] for k, v in attrs.items()})


def test_taste_features_follow_what_the_session_engaged_with():
    seen = [_product("h1", maker="North", tone="Red", price=10), _product("h2", maker="North")]
    same, other = _product("c1", maker="North"), _product("c2", maker="South", price=40)
    looks = {"s": [("click", "h1"), ("click", "c1")], "t": [("click", "h1"), ("click", "c1")]}
    co = CoEngagement.from_events(log(looks | {"u": [("click", "c2")]}))
    taste = Taste(seen, co)
    a, b = taste.row(same), taste.row(other)
    assert a["taste_max"] == 1.0 and b["taste_max"] == 0.0  # no facet key is named
    assert a["co_view"] > 0 and b.get("co_view", 0.0) == 0.0  # never opened together
    assert b["price_vs_history"] > a["price_vs_history"] == 0.0
    cands = [Candidate(product=same, score=1.0), Candidate(product=other, score=1.0)]
    x = feature_matrix("q", cands, np.array([0.5, 0.5]), taste=taste)
    assert x[0, FEATURES.index("taste_max")] == 1.0 and x[1, FEATURES.index("taste_max")] == 0
    # no history, no log: every session feature is zero (a new shopper)
    blank = feature_matrix("q", cands[:1], np.array([0.5]))
    assert all(blank[0, FEATURES.index(f)] == 0 for f in EVENT_FEATURES)


def test_a_taste_is_as_specific_as_the_value_shared_not_another_one():
    """A value most candidates share says little; a rare value the candidate has but the
    shopper never engaged with says nothing."""
    seen = [Product(id="h", title="h", price=10, attributes={"tag": ["vegan", "plain"]})]
    tags = {
        "rare-shared": ["vegan"],
        "common-shared-rare-other": ["plain", "spicy"],
        **{f"filler{i}": ["plain"] for i in range(6)},
    }
    cands = [Product(id=k, title=k, price=10, attributes={"tag": v}) for k, v in tags.items()]
    taste = Taste(seen)
    taste.among(cands)
    rows = {p.id: taste.row(p) for p in cands}
    assert rows["rare-shared"]["taste_specific"] > 0.8  # 1 of 8 candidates is vegan
    # "plain" is on 7 of 8: "spicy", rare but not the shopper's, must not count
    assert rows["common-shared-rare-other"]["taste_specific"] < 0.2


def test_a_product_the_log_never_showed_is_typical_not_unpopular():
    """New products (no impressions) get the median popularity of the shown candidates
    beside them; a product shown and never opened keeps its zero."""
    from ranking.features import FeedbackStats

    looks = {
        "s": [("impression", "hot"), ("click", "hot"), ("impression", "dud")],
        "t": [("impression", "hot"), ("click", "hot"), ("impression", "mid")],
        "u": [("impression", "mid"), ("click", "mid"), ("impression", "dud")],
    }
    events = log(looks)
    co, stats = CoEngagement.from_events(events), FeedbackStats.from_events(events)
    cands = [Candidate(product=_product(p), score=1.0) for p in ("hot", "mid", "dud", "new")]
    taste = Taste([_product("h")], co)
    x = feature_matrix("q", cands, np.zeros(4), stats, taste=taste)
    pop = dict(zip(("hot", "mid", "dud", "new"), x[:, FEATURES.index("log_engaged")], strict=True))
    assert pop["hot"] > pop["mid"] > pop["dud"] == 0.0
    assert pop["new"] == pytest.approx(pop["mid"])  # the median of hot, mid, dud
