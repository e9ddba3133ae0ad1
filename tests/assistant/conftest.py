import pytest

from assistant.records import DialogueState, ShownItem
from assistant.vocabulary import Vocabulary
from retrieval.facets import FacetIndex
from retrieval.schema import Product, Variant


def _p(pid, title, category, price, colors=(), sizes=(), **kw):
    return Product(
        id=pid,
        title=title,
        category=category,
        price=price,
        variants=[Variant(color=c, size=s) for c in colors or [None] for s in sizes or [None]],
        **kw,
    )


SHOP = [
    _p(
        "MJ1",
        "Trail Jacket",
        "Men/Tops/Jackets",
        60,
        ["Blue", "Yellow"],
        ["M", "L"],
        attributes={"material": ["Nylon"]},
        description="A light jacket.\n• Machine wash cold.",
    ),
    _p(
        "WJ1",
        "Rain Jacket",
        "Women/Tops/Jackets",
        75,
        ["Red"],
        ["S", "M"],
        attributes={"material": ["Polyester"]},
    ),
    _p("MT1", "Gym Tank", "Men/Tops/Tanks", 20, ["Black"], ["M"]),
    _p("WB1", "Sports Bra", "Women/Tops/Bras & Tanks", 30, ["Purple"], ["S"]),
    _p("WH1", "Zip Hoodie", "Women/Tops/Hoodies & Sweatshirts", 50, ["Gray"], ["M"]),
    _p("B1", "Hiking Backpack", "Gear/Bags", 40, ["Black"], attributes={"material": ["Leather"]}),
    _p("S1", "Run Short", "Men/Bottoms/Shorts", 25, ["Blue"], ["32", "34"]),
]


@pytest.fixture
def vocab() -> Vocabulary:
    return Vocabulary.from_index_vocabulary(FacetIndex.build(SHOP).vocabulary())


@pytest.fixture
def shown_state() -> DialogueState:
    """A state after a jacket search that showed five items."""
    from retrieval.schema import SearchFilters

    shown = [
        ShownItem(product_id=f"P{i}", title=f"Item {i}", price=price, category="Men/Tops/Jackets")
        for i, price in enumerate([60, 52, 75, 40, 90], 1)
    ]
    return DialogueState(
        filters=SearchFilters(categories=["jackets"], price_max=80.0),
        kinds=["jackets"],
        need="warm jacket",
        shown=shown,
    )
