"""Each eval set's benchmark script loads and speaks its own catalog's words, and the
search benchmark's enlarged catalogs read back on every shape of catalog."""

import math

import pytest

from evals.benchmarks.scripts import load_scripts, script_for
from evals.benchmarks.search import expand_catalog
from evals.sets import all_sets, load_set
from retrieval.lexicon import Lexicon
from retrieval.loaders import load_catalog
from retrieval.schema import normalise

SETS = ["luma", "vendure", "grocery"]


def test_the_three_shapes_each_have_a_script():
    assert set(SETS) <= set(all_sets())


@pytest.mark.parametrize("name", SETS)
def test_a_script_names_only_what_its_catalog_holds(name):
    eval_set = load_set(name)
    scripts = load_scripts(eval_set)
    products, errors = load_catalog(eval_set.catalog)
    assert not errors
    lex = Lexicon.build(products)
    paths = {normalise(c) for p in products for c in p.categories}
    facets = {normalise(k) for k in lex.facets}
    for filters in scripts.search.filters.values():
        for category in filters.categories:
            assert normalise(category) in paths, category
        for key, values in {**filters.facets, **filters.exclude_facets}.items():
            assert normalise(key) in facets, key
            held = {normalise(v) for v in lex.facets[normalise(key)].values}
            assert {normalise(v) for v in values} <= held, values
    assert scripts.turn.dialogues and scripts.serve.requests
    if scripts.text_to_image:
        kinds = scripts.text_to_image.kinds.values()
        categories = [*kinds, *(c for c, _ in scripts.text_to_image.colours.values())]
        for category in categories:
            assert any(normalise(category) in path for path in paths), category


def test_a_script_without_a_part_says_which(tmp_path):
    (tmp_path / "set.toml").write_text('catalog = "data/grocery/products.csv"\n')
    (tmp_path / "bench.toml").write_text('[turn]\ndialogues = [["hello"]]\n')
    with pytest.raises(ValueError, match=r"no \[serve\] section"):
        script_for(load_set(str(tmp_path)), "serve")


@pytest.mark.parametrize("name", SETS)
def test_the_enlarged_catalog_reads_back_with_the_catalogs_own_values(name, tmp_path):
    eval_set = load_set(name)
    base, _ = load_catalog(eval_set.catalog)
    out = expand_catalog(base, 3 * len(base), tmp_path / "big.jsonl", ["Neo"], seed=3)
    big, errors = load_catalog(out)
    assert not errors and len(big) == 3 * len(base)
    held = {
        (k, v) for p in base for k, vs in {**p.attributes, **p.variant_options}.items() for v in vs
    }
    for p in big:
        assert p.title.startswith("Neo ")
        for k, vs in {**p.attributes, **p.variant_options}.items():
            assert all((k, v) in held for v in vs), (k, vs)
        if p.variant_options:
            assert len(p.variants) == math.prod(len(v) for v in p.variant_options.values())
