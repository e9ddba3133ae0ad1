"""The turn reader's fixtures: the three demo catalogs' own words (lexicon and facets built
from the catalog files, no model needed), and a state after a search that showed five."""

import functools

import pytest

from assistant.records import DialogueState, ShownItem
from assistant.understanding import CatalogView, CatalogWords
from retrieval.facets import FacetIndex
from retrieval.lexicon import Lexicon
from retrieval.loaders import load_catalog
from retrieval.schema import SearchFilters
from tests.conftest import CATALOGS


@functools.cache
def shop(name: str) -> tuple[CatalogWords, CatalogView]:
    products, _ = load_catalog(CATALOGS[name])
    lexicon = Lexicon.build(products)
    return CatalogWords(lexicon), CatalogView(FacetIndex.build(products), lexicon)


@pytest.fixture
def luma():
    return shop("luma")


@pytest.fixture
def vendure():
    return shop("vendure")


@pytest.fixture
def grocery():
    return shop("grocery")


@pytest.fixture(params=sorted(CATALOGS))
def any_shop(request):
    return request.param, shop(request.param)


@pytest.fixture
def shown_state() -> DialogueState:
    """A state after a jacket search that showed five items."""
    shown = [
        ShownItem(product_id=f"P{i}", title=f"Item {i}", price=price, category="Men/Tops/Jackets")
        for i, price in enumerate([60, 52, 75, 40, 90], 1)
    ]
    return DialogueState(
        filters=SearchFilters(categories=["jackets"], price_max=80.0),
        categories=["jackets"],
        need="warm jacket",
        shown=shown,
    )
