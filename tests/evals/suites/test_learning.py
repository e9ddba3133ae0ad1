"""The learning suite's baselines learn from the same log as Aisle: a product whose looks
are withheld (cold, as if added after training) is unknown to every method."""

from evals.suites.learning import Preference, SimSession, SimTurn, hit_rates
from ranking.co_engagement import CoEngagement
from retrieval.index import ProductIndex


def _session(i: int, opened: list[str]) -> SimSession:
    turn = SimTurn(kind="kettle", said="a kettle", opened=opened)
    return SimSession(session=f"s{i}", preference=Preference(kind="none", kinds=[]), turns=[turn])


def test_a_cold_products_looks_are_withheld_from_every_baseline(tiny_shop):
    settings, _ = tiny_shop
    index = ProductIndex(settings)
    # K4 is what everyone opened, but its looks are withheld: popularity must not know it
    train = [_session(i, ["K1", "K4"]) for i in range(6)]
    hits, cold_hits = hit_rates(
        index, [("K1", "K4"), ("K4", "K1")], CoEngagement(), train, {"K4"}, 0
    )
    assert hits["popularity"] == 0.5  # K1 is still known (K4 → K1 found), K4 is not
    assert cold_hits["popularity"] == 0.5
    warm, _ = hit_rates(index, [("K1", "K4")], CoEngagement(), train, set(), 0)
    assert warm["popularity"] == 1.0  # not withheld: the most popular product
