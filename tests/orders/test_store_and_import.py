"""Importing orders: τ²'s db.json as it is, a CSV of order lines, bad rows with their line,
and a failed import that leaves the store as it was."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError
from typer.testing import CliRunner

from cli import app
from orders.importers import OrdersFormatError, read_orders

from .conftest import SHOP_CSV, TAU2, csv_store


def test_tau2_db_json_loads_as_it_is(tau2_store):
    assert tau2_store.counts() == {
        "customers": 500,
        "payment_methods": 695,
        "orders": 1000,
        "order_lines": 2978,
        "variants": 591,
    }
    order = tau2_store.order("#W2378156")
    assert order.status == "delivered" and order.customer_id == "yusuf_rossi_9620"
    assert [line.name for line in order.lines][:2] == ["Headphones", "Vacuum Cleaner"]
    assert order.paid_with() == "credit_card_9513926"
    customer = tau2_store.customer("yusuf_rossi_9620")
    assert customer.address.zip == "19122" and customer.payment("credit_card_9513926")


def test_a_csv_of_order_lines_groups_orders_and_customers(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(SHOP_CSV, encoding="utf-8")
    found = read_orders(path)
    assert not found.bad
    assert {o.id for o in found.orders} == {"1001", "1002", "1003"}
    assert {c.id for c in found.customers} == {"c-1", "c-2"}
    first = next(o for o in found.orders if o.id == "1001")
    assert [line.item_id for line in first.lines] == ["m-red-350", "t-green"]
    assert first.lines[0].options == {"colour": "red", "volume": "350 ml"}
    assert first.payments[0].amount == 16.5  # the order's total, as far as the file says


def test_messy_rows_are_reported_with_their_line_and_their_order_left_out(tmp_path):
    rows = SHOP_CSV.splitlines()
    rows[2] = rows[2].replace("4.50", "four fifty")  # line 3: a price that is no amount
    rows.append("1004,pending,c-2,,Bo,Ng,,,,,97301,x-1,x,,,3.00,,")  # line 6: no product name
    path = tmp_path / "orders.csv"
    path.write_text("\ufeff" + "\n".join(rows) + "\n", encoding="utf-8")  # with a BOM
    found = read_orders(path)
    assert [(b.line, b.what) for b in found.bad] == [(3, "order 1001"), (6, "order 1004")]
    assert "four fifty" in found.bad[0].reason and "product_name" in found.bad[1].reason
    assert {o.id for o in found.orders} == {"1002", "1003"}  # 1001 is not half-imported


def test_a_file_of_another_shape_is_named(tmp_path):
    bad = tmp_path / "orders.csv"
    bad.write_text("id,title\n1,Mug\n")
    with pytest.raises(OrdersFormatError, match="order_id, status, customer_id"):
        read_orders(bad)
    other = tmp_path / "orders.json"
    other.write_text('{"products": {}}')
    with pytest.raises(OrdersFormatError, match="'users' and 'orders'"):
        read_orders(other)


def test_a_failed_import_leaves_the_old_orders(tmp_path):
    store = csv_store(tmp_path)
    found = read_orders(tmp_path / "orders.csv")
    before = store.counts()
    with pytest.raises(IntegrityError):  # a customer twice: the database refuses it all
        store.replace_all(found.customers * 2, found.orders[:1], [])
    assert store.counts() == before and store.order("1003") is not None


def test_aisle_orders_import(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(SHOP_CSV.replace(",4.50,", ",x,"))
    out = CliRunner().invoke(app, ["orders", "import", str(path), "--index-dir", str(tmp_path)])
    assert out.exit_code == 0, out.output
    assert "Imported 2 customers, 2 orders" in out.output and "skipped line 3" in out.output
    assert (tmp_path / "orders.sqlite").is_file()
    out = CliRunner().invoke(app, ["orders", "import", str(TAU2 / "nope.csv")])
    assert out.exit_code == 2 and "no such file" in out.output


def test_service_rules_are_ingested_with_the_policies(tmp_path):
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "returns.md").write_text("# Returns\n\n## Window\nReturns within 30 days.\n")
    (folder / "service-rules.toml").write_text(
        '[actions.cancel_pending_order]\nstates = ["pending"]\n'
    )
    index = tmp_path / "index"
    out = CliRunner().invoke(app, ["ingest", str(folder), "--index-dir", str(index)])
    assert out.exit_code == 0, out.output
    assert "Service rules: 1 actions" in out.output
    assert (index / "policies" / "service-rules.toml").is_file()
    (folder / "service-rules.toml").write_text('[actions.refund_twice]\nstates = ["pending"]\n')
    out = CliRunner().invoke(app, ["ingest", str(folder), "--index-dir", str(index)])
    assert out.exit_code == 2 and "refund_twice" in out.output


def test_a_shops_own_column_names_through_a_mapping(tmp_path):
    theirs = {"order_id": "Order Number", "status": "Fulfillment Status", "price": "Lineitem price"}
    rows = SHOP_CSV.splitlines()
    head = rows[0].split(",")
    rows[0] = ",".join(theirs.get(h, h) for h in head)
    path = tmp_path / "export.csv"
    path.write_text("\n".join(rows) + "\n")
    with pytest.raises(OrdersFormatError, match="order_id, status"):
        read_orders(path)  # without the mapping, its columns are named
    mapping = tmp_path / "export.mapping.toml"  # found beside the file
    mapping.write_text("[columns]\n" + "".join(f'{k} = "{v}"\n' for k, v in theirs.items()))
    found = read_orders(path)
    assert {o.id for o in found.orders} == {"1001", "1002", "1003"} and not found.bad
    mapping.write_text('[columns]\norder_number = "Order Number"\n')
    with pytest.raises(OrdersFormatError, match="not order_number"):
        read_orders(path)
