"""The order store filled from τ²-bench retail's db.json (../shared beside the repository)
and from small CSV shops written here."""

from __future__ import annotations

from pathlib import Path

import pytest

from orders.importers import read_orders
from orders.rules import load_rules
from orders.store import OrderStore

REPO = Path(__file__).resolve().parents[2]
TAU2 = REPO.parent / "shared" / "datasets" / "tau2-retail"
RULES = REPO / "data" / "tau2-retail" / "service-rules.toml"


@pytest.fixture(scope="session")
def tau2_store(tmp_path_factory) -> OrderStore:
    if not (TAU2 / "db.json").is_file():
        pytest.skip(f"τ²-bench retail data not found at {TAU2}")
    found = read_orders(TAU2 / "db.json")
    store = OrderStore(f"sqlite:///{tmp_path_factory.mktemp('orders') / 'orders.sqlite'}")
    store.replace_all(found.customers, found.orders, found.variants)
    return store


@pytest.fixture(scope="session")
def tau2_rules():
    return load_rules(RULES)


SHOP_CSV = (Path(__file__).parent / "shop-orders.csv").read_text(encoding="utf-8")


def csv_store(folder: Path, url: str | None = None) -> OrderStore:
    """The small CSV shop imported into a store in `folder` (or at `url`)."""
    path = folder / "orders.csv"
    path.write_text(SHOP_CSV)
    found = read_orders(path)
    store = OrderStore(url or f"sqlite:///{folder / 'orders.sqlite'}")
    store.replace_all(found.customers, found.orders, found.variants)
    return store
