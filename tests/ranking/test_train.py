"""Training the ranker on the tiny catalog (a tiny random sentence model built in the test,
fine-tuned by the same code path as MiniLM), the synthetic queries, and the fallback."""

import json

import pytest
from typer.testing import CliRunner

from cli import app
from ranking.model import FineTunedRanker, load_ranker, ranker_dir
from ranking.rank import RetrievalOrderRanker
from ranking.synthetic import Spec, generate, grade
from ranking.train import TrainConfig, train
from retrieval.index import ProductIndex
from retrieval.ingest import ingest
from retrieval.schema import Product, SearchRequest
from retrieval.search import HybridSearcher


@pytest.fixture
def tiny_index(tiny_catalog, tiny_config):
    ingest(tiny_catalog, tiny_config, progress=False)
    return ProductIndex(tiny_config)


def test_synthetic_queries_are_graded_by_what_they_ask():
    wool = Product(
        id="a", title="A", category="Women/Tops/Jackets", attributes={"material": ["Wool"]}
    )
    nylon = Product(
        id="b", title="B", category="Women/Tops/Jackets", attributes={"material": ["Nylon"]}
    )
    bag = Product(id="c", title="C", category="Gear/Bags", attributes={"material": ["Wool"]})
    spec = Spec(kind="cat:jackets", attributes=(("material", "Wool"),))
    assert [grade(p, spec) for p in (wool, nylon, bag)] == [3, 1, 0]
    queries = generate([wool, nylon, bag], n_queries=20, seed=1)
    assert queries and all(q.grades.keys() == {"a", "b", "c"} for q in queries)
    assert any("wool" in q.text and "jacket" in q.text for q in queries)


@pytest.mark.parametrize("name", ["luma", "vendure", "grocery"])
def test_synthetic_queries_come_from_each_catalogs_own_facets(name):
    from retrieval.lexicon import Lexicon
    from retrieval.loaders import load_catalog
    from tests.conftest import CATALOGS

    products, _ = load_catalog(CATALOGS[name])
    queries = generate(products, 600, 0, Lexicon.build(products))
    assert len(queries) >= 500  # not the handful a catalog without Luma's keys got
    keys = {k for q in queries for k, _ in q.spec.attributes}
    expected = {
        "luma": {"material", "color"},
        "vendure": {"brand", "color"},
        "grocery": {"brand", "dietary", "origin"},
    }[name]
    assert expected <= keys
    graded = [q for q in queries if q.spec.attributes]
    assert all(max(q.grades.values()) >= 2 for q in graded)  # each asks for something real


def test_no_model_means_retrieval_order(tmp_path):
    ranker, why = load_ranker(tmp_path)
    assert isinstance(ranker, RetrievalOrderRanker) and why is None
    (ranker_dir(tmp_path)).mkdir()
    (ranker_dir(tmp_path) / "card.json").write_text("{broken")
    ranker, why = load_ranker(tmp_path)
    assert isinstance(ranker, RetrievalOrderRanker) and "not loaded" in why


def test_a_trained_ranker_puts_the_relevant_product_first(tiny_index, tiny_config):
    card = train(
        tiny_index,
        TrainConfig(synthetic_queries=120, candidates=5, batch_size=8, heldout_share=0.2),
        tiny_config.text_model,
        progress=False,
    )
    folder = ranker_dir(tiny_index.dir)
    assert (folder / "README.md").read_text().startswith("# Aisle ranker")
    assert card.sources["synthetic"]["queries"] > 10 and card.training_seconds["total"] > 0
    ranker, why = load_ranker(tiny_index.dir)
    assert isinstance(ranker, FineTunedRanker) and why is None
    # candidates handed over worst-first: the ranker must reorder them
    cands = HybridSearcher(tiny_index).search(SearchRequest(text="backpack", k=5)).candidates
    worst_first = sorted(cands, key=lambda c: c.product.id == "B1")
    assert worst_first[0].product.id != "B1"
    ranked = ranker.rank("backpack", worst_first)
    assert ranked[0].product.id == "B1" and ranked[0].ranker == "fine-tuned"

    # search says which ranker ordered the results
    out = CliRunner().invoke(
        app, ["search", "backpack", "--index-dir", str(tiny_index.dir), "--json", "-k", "3"]
    )
    assert out.exit_code == 0, out.output
    payload = json.loads(out.stdout)
    assert payload["ranker"] == "fine-tuned" and payload["results"][0]["id"] == "B1"


def test_paraphrases_keep_only_faithful_rewrites():
    from ranking.synthetic import SyntheticQuery, paraphrase

    q = SyntheticQuery(
        text="women's wool jackets",
        spec=Spec(kind="cat:jackets", department="Women", attributes=(("material", "Wool"),)),
        grades={"a": 3},
    )
    rewrites = {
        "women's wool jackets": [
            "women's wool jackets",  # a copy: nothing new
            "a cozy coat for winter",  # lost the wool and the jacket: labels would lie
            "I need a warm wool jacket",  # lost "women's": a men's one would grade 3
            "Women's Wool Jackets",  # only case changed: nothing new to learn
            "any warm wool jacket for women going hiking?",  # faithful
        ]
    }
    out = paraphrase([q], lambda text: rewrites[text], per_query=2)
    assert [p.text for p in out] == ["any warm wool jacket for women going hiking?"]
    assert out[0].grades == q.grades and out[0].paraphrase_of == q.text

    def broken(text):
        raise TimeoutError("LLM down")

    assert paraphrase([q], broken) == []  # a failed call costs the paraphrase only


def test_train_ranker_json_is_pure_json(tiny_index, tiny_config, monkeypatch):
    monkeypatch.setenv("AISLE_TEXT_MODEL", tiny_config.text_model)
    out = CliRunner().invoke(
        app,
        [
            "train-ranker",
            "--index-dir",
            str(tiny_index.dir),
            "--synthetic-queries",
            "40",
            "--no-events",
            "--json",
        ],
    )
    assert out.exit_code == 0, out.output
    card = json.loads(out.stdout)  # nothing else on stdout (the trainer's own log goes to stderr)
    assert card["sources"]["synthetic"]["queries"] > 0
