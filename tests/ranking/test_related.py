"""Item-to-item suggestions on the three demo catalogs: behaviour first (from a hand-written
log), content for a product nobody engaged with, never the same kind for "goes well with";
and `aisle related` from the command line. Slow: each catalog is indexed once a session."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from cli import app
from ranking.co_engagement import CoEngagement
from ranking.events import Event, EventLog
from ranking.related import RelatedFinder, kind_key
from retrieval.index import ProductIndex

pytestmark = pytest.mark.slow
SHOPS = ["demo_index", "vendure_index", "grocery_index"]


def _events(sessions: list[list[tuple[str, str]]]) -> list[Event]:
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    return [
        Event(kind=kind, session=f"s{n}", product_id=pid, at=t0 + timedelta(minutes=n))
        for n, actions in enumerate(sessions)
        for kind, pid in actions
    ]


def _three(index: ProductIndex):
    """A product, another far down its content list (behaviour must bring it up), and one
    of another kind."""
    products = [p for p in index.all_products() if p.visible]
    p = products[0]
    content = [n.product_id for n in RelatedFinder(index, None).related(p.id, 10).also_viewed]
    other = next(q for q in reversed(products) if kind_key(q) != kind_key(p))
    far = next(q for q in products[1:] if q.id not in content and q.id != other.id)
    return p, far, other


@pytest.mark.parametrize("shop", SHOPS)
def test_neighbours_come_from_behaviour_then_content(shop, request):
    config, _ = request.getfixturevalue(shop)
    index = ProductIndex(config)
    p, same, other = _three(index)
    looked = [("click", p.id), ("click", same.id)]
    bought = [("cart_add", p.id), ("cart_add", other.id)]
    co = CoEngagement.from_events(_events([looked, looked, bought, bought, [("click", p.id)]]))
    found = RelatedFinder(index, co).related(p.id, 5)
    # what shoppers did comes first, with how many sessions did it
    assert found.also_viewed[0].product_id in (same.id, other.id)
    behaviour = [n for n in found.also_viewed if n.source == "behaviour"]
    assert {n.product_id for n in behaviour} == {same.id, other.id}
    assert all(n.sessions == 2 for n in behaviour)
    assert found.goes_with[0].product_id == other.id and found.goes_with[0].source == "behaviour"
    # filled from content up to five, never the product itself, never its kind to go with
    assert len(found.also_viewed) == len(found.goes_with) == 5
    assert p.id not in {n.product_id for n in found.also_viewed + found.goes_with}
    kinds = {kind_key(index.product(n.product_id)) for n in found.goes_with}
    assert kind_key(p) not in kinds

    # a product nobody has engaged with (cold start): its content neighbours
    cold = next(q for q in index.all_products() if q.visible and co.popularity(q.id) == 0)
    fresh = RelatedFinder(index, co).related(cold.id, 5)
    assert len(fresh.also_viewed) == 5
    assert all(n.source == "content" for n in fresh.also_viewed + fresh.goes_with)
    assert fresh.also_viewed == sorted(fresh.also_viewed, key=lambda n: -n.score)


@pytest.mark.parametrize("shop", SHOPS)
def test_aisle_related_prints_both_lists_with_their_source(shop, request, tmp_path):
    config, _ = request.getfixturevalue(shop)
    index = ProductIndex(config)
    p, same, _ = _three(index)
    url = f"sqlite:///{tmp_path / 'events.sqlite'}"
    looked = [("click", p.id), ("click", same.id)]
    EventLog(url).record(_events([looked, looked, looked]))
    args = ["related", p.id, "--index-dir", str(config.index_dir), "--json", "-k", "3"]
    out = CliRunner().invoke(app, args, env={"AISLE_EVENT_LOG_URL": url})
    assert out.exit_code == 0, out.output
    payload = json.loads(out.stdout)
    first = payload["also_viewed"][0]
    assert first["product_id"] == same.id and first["source"] == "behaviour"
    assert first["sessions"] == 3 and len(payload["goes_with"]) == 3
    table = CliRunner().invoke(
        app,
        ["related", p.id, "--index-dir", str(config.index_dir)],
        env={"AISLE_EVENT_LOG_URL": url},
    )
    assert "Goes well with" in table.output and "behaviour" in table.output
    missing = CliRunner().invoke(
        app, ["related", "no-such-id", "--index-dir", str(config.index_dir)]
    )
    assert missing.exit_code == 2 and "no product 'no-such-id'" in missing.output


@pytest.mark.parametrize("shop", SHOPS)
def test_a_new_product_keeps_a_place_beside_popular_ones(shop, request):
    """Behaviour could fill every place; one is kept for a product nobody has opened yet
    (among the nearest by content), or it would never gather the looks behaviour needs."""
    config, _ = request.getfixturevalue(shop)
    index = ProductIndex(config)
    products = [p for p in index.all_products() if p.visible]
    p = products[0]
    content = [n.product_id for n in RelatedFinder(index, None).related(p.id, 5).also_viewed]
    popular = [q.id for q in products[1:] if q.id not in content][:6]
    sessions = [[("click", p.id), ("click", q)] for q in popular for _ in range(3)]
    co = CoEngagement.from_events(_events(sessions))
    found = RelatedFinder(index, co).related(p.id, 5).also_viewed
    assert [n.source for n in found] == ["behaviour"] * 4 + ["content"]
    assert found[-1].product_id in content and co.popularity(found[-1].product_id) == 0
