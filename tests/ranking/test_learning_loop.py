"""The loop from clicks to a better ranker, on the three demo catalogs: shoppers who always
pick one value of a facet (a brand, a colour, whatever this catalog lists most) teach the
ranker to put that value first for a new session showing the same taste, and a retrained
model that is worse on held-out queries is not swapped in. The encoder is a tiny model
built in the test; the fusion and the features are the real ones. Slow."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from evals.suites.learning import Catalog
from ranking.events import Event
from ranking.model import PERSONAL_HEAD, FineTunedRanker, ranker_dir
from ranking.train import TrainConfig, train
from retrieval.index import ProductIndex
from retrieval.schema import SearchRequest
from retrieval.search import HybridSearcher

pytestmark = pytest.mark.slow
SHOPS = ["demo_index", "vendure_index", "grocery_index"]


def _two_tastes(index: ProductIndex, top_of):
    """A kind, its word, a facet and two of its values with two products each among the
    serving model's top for the word (`top_of`: what the personal model reorders), the
    facets tried from the one the simulated shoppers prefer on."""
    catalog = Catalog(index.all_products(), seed=0)
    keys = [catalog.key, *sorted({k for p in catalog.products for k in p.facet_keys()})]
    for kind in catalog.kinds:
        word = catalog.word[kind]
        found = [p for p in top_of(word) if catalog.kind.get(p.id) == kind]
        # a facet with one value a product (a brand) first: a shopper's taste on it is
        # one value, not one of several tags every product carries a few of
        single = [k for k in dict.fromkeys(keys) if all(len(p.values(k)) <= 1 for p in found)]
        for key in [*single, *dict.fromkeys(keys)]:
            values = {p.id: {v.casefold() for v in p.values(key)} for p in found}
            names = sorted({v for vs in values.values() for v in vs})
            for a in names:
                for b in names:
                    one = [p for p in found if a in values[p.id] and b not in values[p.id]]
                    two = [p for p in found if b in values[p.id] and a not in values[p.id]]
                    if a < b and len(one) >= 2 and len(two) >= 2:
                        return word, key, (a, one), (b, two)
    pytest.fail("no kind with two values of one facet, two products each")


def _log(word, tastes, top, sessions=240) -> list[Event]:
    """Shoppers who opened one product of their value, then, shown the query's top products
    and both values mixed, open the other product of their value (and pass over those shown
    above it)."""
    rng = random.Random(0)
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    out = []
    for n in range(sessions):
        mine, theirs = tastes[n % 2][1], tastes[1 - n % 2][1]
        seen, pick = rng.sample(mine[:3], 2)
        others = [p for p in top if p.id not in {q.id for q in mine}][:3]
        shown = [*rng.sample(theirs, min(2, len(theirs))), *others, pick, *theirs[2:3]]
        s, at = f"s{n}", t0 + timedelta(minutes=n)
        out.append(Event(kind="click", session=s, product_id=seen.id, at=at))
        out += [
            Event(
                kind="impression",
                session=s,
                reply_id=f"r{n}",
                query=word,
                product_id=p.id,
                position=i,
                detail={"ranking_query": word},
                at=at + timedelta(seconds=1),
            )
            for i, p in enumerate(shown, 1)
        ]
        out.append(
            Event(
                kind="click",
                session=s,
                reply_id=f"r{n}",
                product_id=pick.id,
                position=shown.index(pick) + 1,
                at=at + timedelta(seconds=2),
            )
        )
    return out


@pytest.mark.parametrize("shop", SHOPS)
def test_the_ranker_learns_a_taste_from_the_log_and_a_worse_model_is_not_swapped_in(
    shop, request, tiny_text_model, tmp_path
):
    config, _ = request.getfixturevalue(shop)
    index = ProductIndex(config)
    folder = tmp_path / "ranker"
    cfg = TrainConfig(synthetic_queries=80, batch_size=16, heldout_share=0.3, seed=1)
    # the model serving before the log existed: what it shows first is what shoppers saw
    first = train(index, cfg, tiny_text_model, progress=False, out_dir=folder)
    searcher, serving = HybridSearcher(index), FineTunedRanker(folder)
    search = lambda w: searcher.search(SearchRequest(text=w, k=50)).candidates  # noqa: E731
    head = lambda w: [i.product for i in serving.rank(w, search(w))[:PERSONAL_HEAD]]  # noqa: E731
    word, key, (a, a_products), (b, b_products) = _two_tastes(index, head)
    cands = search(word)
    top = [i.product for i in serving.rank(word, cands)[:5]]
    events = _log(word, [(a, a_products), (b, b_products)], top)
    card = train(index, cfg, tiny_text_model, events=events, progress=False, out_dir=folder)
    assert card.replaced is not None and card.replaced.swapped  # no worse: it goes live
    assert card.replaced.previous_created == first.created
    assert card.events.sessions == 240 and card.events.labelled_queries > 100
    session = ("session_sim", "taste_max", "taste_mean", "taste_specific", "co_view")
    assert sum(card.feature_importance[f] for f in session) > 0  # the history carries weight

    ranker = FineTunedRanker(folder)
    for value, products in ((a, a_products), (b, b_products)):
        # a new session that opened one product of this value searches the word: all the
        # candidates ranked, as when serving; the first other product has the same value
        seen = products[0]
        ranked = [i.product for i in ranker.rank(word, cands, [seen]) if i.product.id != seen.id]
        assert value in {v.casefold() for v in ranked[0].values(key)}, (value, ranked[0].title)

    # retrained without the event features: worse on the held-out sessions, so it waits
    worse = cfg.model_copy(update={"event_features": False})
    second = train(index, worse, tiny_text_model, events=events, progress=False, out_dir=folder)
    r = second.replaced
    assert r is not None and not r.swapped and r.new_ndcg < r.previous_ndcg
    assert FineTunedRanker(folder).card.created == card.created  # the old one still serves
    rejected = FineTunedRanker(folder.with_name("ranker.rejected")).card
    assert (
        rejected.created == second.created
        and "NOT swapped" in (folder.with_name("ranker.rejected") / "README.md").read_text()
    )
    assert ranker_dir(index.dir) != folder  # the shop's own model was never touched
