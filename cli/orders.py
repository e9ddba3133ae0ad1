"""`aisle orders import`: a shop's customers and orders into the order store the service
console reads (τ²-bench's db.json shape, or a CSV of one row per order line)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from assistant.config import Settings

from .app import AsJson, IndexDir, fail, user_errors, warn

app = typer.Typer(
    help="The shop's customers and orders, for the service console.", no_args_is_help=True
)


@app.command("import")
def import_orders(
    path: Annotated[
        Path,
        typer.Argument(
            help="τ²-bench-style db.json (users, orders, products), or a CSV with one row per "
            "order line: order_id, status, customer_id, email, first_name, last_name, "
            "address1, address2, city, state, country, zip, item_id, product_id, "
            "product_name, options (key=value; …), price, payment_method_id, payment_source, "
            "tracking_id"
        ),
    ],
    index_dir: IndexDir = None,
    orders_url: Annotated[
        str | None, typer.Option(help="SQLAlchemy URL of the order store [env AISLE_ORDERS_URL]")
    ] = None,
    mapping: Annotated[
        Path | None,
        typer.Option(
            help='a CSV\'s own column names: TOML [columns] order_id = "Order Number" … '
            "(default: <file>.mapping.toml beside it)"
        ),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Replace the order store's contents with a file's, in one transaction; bad records
    are reported with their line and left out."""
    from orders.importers import OrdersFormatError, read_orders
    from orders.store import OrderStore

    settings = Settings().with_overrides(index_dir=index_dir, orders_url=orders_url)
    try:
        found = read_orders(path, mapping)
        if not found.orders and not found.customers:
            raise OrdersFormatError(f"{path.name}: no customer or order could be read")
        store = OrderStore(settings.orders_location())
        store.replace_all(found.customers, found.orders, found.variants)
        counts = store.counts()
    except (*user_errors(), OrdersFormatError) as exc:
        raise fail(str(exc)) from None
    if as_json:
        import json

        print(
            json.dumps(
                {
                    "store": store.where,
                    "counts": counts,
                    "bad": [b.model_dump() for b in found.bad],
                },
                indent=2,
            )
        )
        return
    typer.echo(
        f"Imported {counts['customers']} customers, {counts['orders']} orders "
        f"({counts['order_lines']} lines), {counts['variants']} variants → {store.where}"
    )
    for bad in found.bad:
        warn(f"skipped line {bad.line} ({bad.what}): {bad.reason}")
