"""The lexicon built from each catalog shape: three-level (Luma), two-level (Vendure) and
flat (grocery) categories, brands, option groups, numeric units, currency, collections."""

import pytest

from retrieval.kinds import title_kind
from retrieval.lexicon import Lexicon, read_shop_synonyms
from retrieval.loaders import load_catalog
from tests.conftest import CATALOGS


@pytest.fixture(scope="module", params=sorted(CATALOGS))
def lexicon(request) -> tuple[str, Lexicon]:
    products, _ = load_catalog(CATALOGS[request.param])
    return request.param, Lexicon.build(products)


def test_every_shape_gets_its_own_categories_facets_and_currency(lexicon):
    name, lex = lexicon
    depth = max(c.depth for c in lex.categories.values() if not c.derived)
    assert depth == {"luma": 2, "vendure": 1, "grocery": 0}[name]
    assert lex.currency == {"luma": "USD", "vendure": "USD", "grocery": "EUR"}[name]
    colour = bool(lex.color_keys())
    assert colour == (name != "grocery")  # no colour facet, no colour words
    if name == "vendure":
        assert lex.facet("brand").products == 29 and "Apple" in lex.facet("brand").values
        assert lex.facet("RAM").level == "option" and lex.facet("RAM").dimension == "data"
        assert lex.facet("screen size").dimension == "length"
    if name == "grocery":
        assert set(lex.facet("pack_size").dimensions) >= {"mass", "volume", "count"}
        assert lex.facet("cocoa").dimension == "percent"
        assert "vegan" in lex.facet("dietary").values and lex.facet("dietary").constrains
    if name == "luma":
        assert lex.collections == ["collections", "promotions"]
        assert lex.facet("climate").tag and not lex.facet("climate").constrains
        assert lex.facet("sale").flag and not lex.facet("sale").constrains
        assert lex.facet("size").constrains  # options are not tag lists


def test_kinds_from_titles_sit_below_the_products_categories(lexicon):
    name, lex = lexicon
    derived = {k for k, c in lex.categories.items() if c.derived}
    expected = {
        "luma": {"backpack", "tote", "ball"},
        "vendure": {"laptop", "camera", "sofa"},
        "grocery": {"spaghetti", "pesto", "crisp"},
    }[name]
    assert expected <= derived
    assert not derived & {"jacket", "tee", "oil", "wine"}  # already named by their category


def test_product_phrases_are_kept_and_colour_descriptions_are_not(lexicon):
    name, lex = lexicon
    if name == "grocery":
        assert {"olive oil", "red wine", "green tea", "dark chocolate"} <= set(lex.phrases)


@pytest.mark.parametrize(
    "title, kind",
    [
        ("Sprite Stasis Ball 55 cm", "ball"),
        ("Set of Sprite Yoga Straps", "strap"),
        ("Olive Oil for Cooking 1 L", "oil"),
        ("Camera Lens", "lens"),
        ("Dark Chocolate 70% Cocoa 100 g", "chocolate"),
        ("Beginner's Yoga", None),
        ("Mona Pullover Hoodlie", "pullover"),
    ],
)
def test_a_titles_kind_is_its_head_noun(title, kind):
    assert title_kind(title) == kind


def test_a_shops_own_synonyms_are_read_and_bad_files_are_named(tmp_path):
    path = tmp_path / "shop.lexicon.toml"
    path.write_text('[synonyms]\n"hoody" = "hoodie"\n"tee" = ["t-shirt", "shirt"]\n')
    assert read_shop_synonyms(path) == {"hoody": ["hoodie"], "tee": ["t-shirt", "shirt"]}
    path.write_text("[synonyms\n")
    with pytest.raises(ValueError, match="lexicon file"):
        read_shop_synonyms(path)


def _scraped_shop(n: int = 60):
    """A scraped feed's shape: a brand vocabulary, a colour with a junk tail, bullet points,
    a ratings count, a breadcrumb list beside the category path."""
    from retrieval.schema import Product

    rows = []
    for i in range(n):
        rows.append(
            Product(
                id=f"p{i}",
                title=f"Thing {i}",
                category="Home / Kitchen / Mugs",
                attributes={
                    "maker": [f"Maker{i % 6}"],
                    "colour": ["Black" if i % 3 else f"Shade {i}"],
                    "highlights": [
                        f"Made of sturdy stuff number {i} that lasts for years and years"
                    ],
                    "blurb": [f"Great pick {i} today"],
                    "votes": [str(i * 7)],
                    "ean": [f"40{i:011d}"],
                },
            )
        )
    return rows


def test_each_attribute_is_typed_from_its_values_and_only_a_vocabulary_filters():
    lex = Lexicon.build(_scraped_shop())
    types = {f.key: f.type for f in lex.facets.values()}
    assert types == {
        "maker": "categorical",
        "colour": "categorical",
        "highlights": "free text",  # sentences
        "blurb": "free text",  # several words, every product its own
        "votes": "identifier",
        "ean": "identifier",
    }
    assert [k for k, f in lex.facets.items() if f.constrains] == ["maker", "colour"]
    assert all(f.why for f in lex.facets.values())


def test_a_mapping_file_sets_an_attributes_type_and_leaves_the_rows_alone(tmp_path):
    import json

    from retrieval.mapping import CatalogMapping

    path = tmp_path / "feed.jsonl"
    rows = [
        {"id": f"p{i}", "title": f"Mug {i}", "maker": f"Maker{i % 6}", "note": f"Pick {i % 3}"}
        for i in range(30)
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    (tmp_path / "feed.mapping.toml").write_text('[types]\nmaker = "free text"\n')
    mapping = CatalogMapping.load(tmp_path / "feed.mapping.toml")
    assert not mapping.reads_rows
    products, errors = load_catalog(path)
    assert not errors and products[0].attributes["maker"] == ["Maker0"]
    lex = Lexicon.build(products, types=mapping.types)
    assert lex.facet("maker").type == "free text" and not lex.facet("maker").constrains
    assert "mapping" in lex.facet("maker").why
    assert lex.facet("note").type == "categorical"  # what the mapping does not name stays
