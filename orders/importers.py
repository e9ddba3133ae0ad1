"""Reading a shop's customers and orders: τ²-bench's `db.json` shape as it is, and a CSV of
one row per order line (as shop platforms export orders). A bad record is reported with its
line and left out (an order whose line is bad is left out whole); the rest is imported in
one transaction.

The CSV's columns (a header row; order, customer and address columns repeat on each line
of an order, the first row's values are kept):

    order_id, status, customer_id, email, first_name, last_name,
    address1, address2, city, state, country, zip,
    item_id, product_id, product_name, options ("color=blue; size=M"), price,
    payment_method_id, payment_source (e.g. credit_card, paypal, gift_card), tracking_id

`order_id`, `status`, `customer_id`, `item_id`, `product_name` and `price` are required.
The variants an exchange may choose from are the items the orders hold (available), unless
the file is the τ² shape, which lists every product's variants."""

from __future__ import annotations

import csv
import io
import json
import re
import tomllib
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from base.language.money import parse_amount

from .records import (
    Address,
    Customer,
    Fulfilment,
    Order,
    OrderLine,
    Payment,
    PaymentMethod,
    Variant,
)

REQUIRED = ("order_id", "status", "customer_id", "item_id", "product_name", "price")
ADDRESS = ("address1", "address2", "city", "state", "country", "zip")
OPTIONAL = (
    "email", "first_name", "last_name", "product_id", "options", "payment_method_id",
    "payment_source", "tracking_id",
)  # fmt: skip


class OrdersFormatError(ValueError):
    """A file that is not one of the shapes read here (named, with what was expected)."""


class BadRecord(BaseModel):
    line: int
    what: str  # "order #W123", "customer noah_1", "row"
    reason: str


class OrdersFile(BaseModel):
    customers: list[Customer] = Field(default_factory=list)
    orders: list[Order] = Field(default_factory=list)
    variants: list[Variant] = Field(default_factory=list)
    bad: list[BadRecord] = Field(default_factory=list)


def read_orders(path: Path, mapping: Path | None = None) -> OrdersFile:
    """`mapping`: a TOML file whose `[columns]` table names the file's own column for each
    of the columns above (`order_id = "Order Number"`); default `<file>.mapping.toml`
    beside it, when there is one."""
    path = Path(path)
    if not path.is_file():
        raise OrdersFormatError(f"{path}: no such file")
    if path.suffix.lower() == ".json":
        return read_tau2(path)
    if path.suffix.lower() in (".csv", ".tsv"):
        beside = path.with_suffix(".mapping.toml")
        columns = _columns(mapping or (beside if beside.is_file() else None))
        return read_csv(path, columns)
    raise OrdersFormatError(f"{path.name}: expected a τ²-style .json or a .csv of order lines")


# ---- τ²-bench's db.json --------------------------------------------------------------------
def read_tau2(path: Path) -> OrdersFile:
    text = path.read_text(encoding="utf-8")
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise OrdersFormatError(f"{path.name}: line {exc.lineno}: {exc.msg}") from None
    if not isinstance(raw, dict) or not {"users", "orders"} <= set(raw):
        raise OrdersFormatError(f"{path.name}: expected an object with 'users' and 'orders'")
    out = OrdersFile()
    where = _KeyLines(text)
    for pid, product in (raw.get("products") or {}).items():
        try:
            for item_id, v in product["variants"].items():
                out.variants.append(
                    Variant(
                        item_id=str(v.get("item_id", item_id)),
                        product_id=str(product.get("product_id", pid)),
                        product_name=product["name"],
                        options={str(k): str(x) for k, x in v.get("options", {}).items()},
                        available=bool(v.get("available", True)),
                        price=float(v["price"]),
                    )
                )
        except (KeyError, TypeError, ValueError, AttributeError, ValidationError) as exc:
            out.bad.append(BadRecord(line=where(pid), what=f"product {pid}", reason=_why(exc)))
    for uid, user in raw["users"].items():
        try:
            out.customers.append(_tau2_customer(uid, user))
        except (KeyError, TypeError, ValueError, AttributeError, ValidationError) as exc:
            out.bad.append(BadRecord(line=where(uid), what=f"customer {uid}", reason=_why(exc)))
    for oid, order in raw["orders"].items():
        try:
            out.orders.append(_tau2_order(oid, order))
        except (KeyError, TypeError, ValueError, AttributeError, ValidationError) as exc:
            out.bad.append(BadRecord(line=where(oid), what=f"order {oid}", reason=_why(exc)))
    return out


def _tau2_customer(uid: str, user: dict) -> Customer:
    methods = []
    for mid, m in (user.get("payment_methods") or {}).items():
        methods.append(
            PaymentMethod(
                id=str(m.get("id", mid)),
                source=str(m["source"]),
                brand=str(m.get("brand", "")),
                last_four=str(m.get("last_four", "")),
                balance=float(m["balance"]) if m.get("balance") is not None else None,
            )
        )
    name = user.get("name") or {}
    return Customer(
        id=str(user.get("user_id", uid)),
        first_name=str(name.get("first_name", "")),
        last_name=str(name.get("last_name", "")),
        email=str(user.get("email", "")),
        address=Address(**{k: str(v) for k, v in (user.get("address") or {}).items()}),
        payment_methods=methods,
    )


def _tau2_order(oid: str, order: dict) -> Order:
    return Order(
        id=str(order.get("order_id", oid)),
        customer_id=str(order["user_id"]),
        status=str(order["status"]),
        address=Address(**{k: str(v) for k, v in (order.get("address") or {}).items()}),
        lines=[
            OrderLine(
                item_id=str(i["item_id"]),
                product_id=str(i["product_id"]),
                name=str(i["name"]),
                options={str(k): str(v) for k, v in (i.get("options") or {}).items()},
                price=float(i["price"]),
            )
            for i in order["items"]
        ],
        fulfilments=[
            Fulfilment(
                tracking_ids=[str(t) for t in f.get("tracking_id", [])],
                item_ids=[str(x) for x in f.get("item_ids", [])],
            )
            for f in order.get("fulfillments") or []
        ],
        payments=[
            Payment(
                kind=str(p.get("transaction_type", "payment")),
                amount=float(p["amount"]),
                payment_method_id=str(p["payment_method_id"]),
            )
            for p in order.get("payment_history") or []
        ],
    )


class _KeyLines:
    """The line on which a key first appears in a JSON text (for reporting a bad record)."""

    def __init__(self, text: str):
        self.text = text

    def __call__(self, key: str) -> int:
        at = self.text.find(json.dumps(key) + ":")
        return self.text.count("\n", 0, at) + 1 if at >= 0 else 0


# ---- CSV of order lines --------------------------------------------------------------------
def _columns(mapping: Path | None) -> dict[str, str]:
    """The file's column → this reader's column, from a mapping file's `[columns]`."""
    if mapping is None:
        return {}
    try:
        raw = tomllib.loads(Path(mapping).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise OrdersFormatError(f"{mapping}: {exc}") from None
    columns = raw.get("columns", {})
    known = {*REQUIRED, *ADDRESS, *OPTIONAL}
    unknown = sorted(set(columns) - known)
    if unknown or not all(isinstance(v, str) for v in columns.values()):
        raise OrdersFormatError(
            f"{mapping}: [columns] maps these columns: {', '.join(sorted(known))} "
            f"(each to the name in your file){'; not ' + ', '.join(unknown) if unknown else ''}"
        )
    return {theirs.strip(): ours for ours, theirs in columns.items()}


def read_csv(path: Path, columns: dict[str, str] | None = None) -> OrdersFile:
    """One row per order line; a bad row is reported with its line and its order left out."""
    reader = _csv_rows(path, columns or {})
    out = OrdersFile()
    orders: dict[str, Order] = {}
    customers: dict[str, Customer] = {}
    bad_orders: set[str] = set()
    variants: dict[str, Variant] = {}
    for n, row in enumerate(reader, start=2):
        row = {k.strip(): (v or "").strip() for k, v in row.items() if k}
        oid = row.get("order_id", "")
        try:
            line = _csv_line(row, orders, customers)
            variants.setdefault(
                line.item_id,
                Variant(
                    item_id=line.item_id,
                    product_id=line.product_id,
                    product_name=line.name,
                    options=line.options,
                    price=line.price,
                ),
            )
        except (ValueError, ValidationError) as exc:
            out.bad.append(
                BadRecord(line=n, what=f"order {oid}" if oid else "row", reason=_why(exc))
            )
            bad_orders.add(oid)
    for order in orders.values():
        for p in order.payments:  # the payment is the order's total, as far as the file says
            p.amount = order.total
    out.orders = [o for oid, o in orders.items() if oid not in bad_orders]
    out.customers = list(customers.values())
    out.variants = list(variants.values())
    return out


def _csv_rows(path: Path, rename: dict[str, str]) -> csv.DictReader:
    """The file's rows under this reader's column names; a header without the required
    columns is an error naming them."""
    text = path.read_text(encoding="utf-8-sig")
    dialect = "excel-tab" if path.suffix.lower() == ".tsv" else "excel"
    lines = text.splitlines()
    if lines and rename:  # the shop's own column names → this reader's
        head = next(csv.reader(lines[:1], dialect=dialect))
        out_head = [rename.get(h.strip(), h.strip()) for h in head]
        buffer = io.StringIO()
        csv.writer(buffer, dialect=dialect).writerow(out_head)
        lines = [buffer.getvalue().rstrip("\r\n"), *lines[1:]]
    reader = csv.DictReader(lines, dialect=dialect)
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise OrdersFormatError(
            f"{path.name}: the header has no {', '.join(missing)} column"
            f" (it has: {', '.join(header) or 'nothing'}); see `aisle orders import --help`"
        )
    return reader


def _csv_line(row: dict, orders: dict[str, Order], customers: dict[str, Customer]) -> OrderLine:
    """One row: its order line, added to its order (made on its first row) with the
    customer, tracking and payment method the row names."""
    empty = [c for c in REQUIRED if not row.get(c)]
    if empty:
        raise ValueError(f"empty {', '.join(empty)}")
    line = OrderLine(
        item_id=row["item_id"],
        product_id=row.get("product_id") or row["product_name"],
        name=row["product_name"],
        options=_options(row.get("options", "")),
        price=_price(row["price"]),
    )
    customer = customers.setdefault(row["customer_id"], _csv_customer(row))
    order = orders.get(row["order_id"])
    if order is None:
        order = orders[row["order_id"]] = Order(
            id=row["order_id"],
            customer_id=row["customer_id"],
            status=row["status"],
            address=Address(**{k: row.get(k, "") for k in ADDRESS}),
        )
    order.lines.append(line)
    if row.get("tracking_id"):
        shipped = Fulfilment(tracking_ids=[row["tracking_id"]], item_ids=[line.item_id])
        order.fulfilments.append(shipped)
    method = row.get("payment_method_id")
    if method and not customer.payment(method):
        source = row.get("payment_source") or method.split("_")[0]
        customer.payment_methods.append(PaymentMethod(id=method, source=source))
    if method and not order.payments:
        order.payments.append(Payment(amount=0.0, payment_method_id=method))
    return line


def _csv_customer(row: dict) -> Customer:
    return Customer(
        id=row["customer_id"],
        first_name=row.get("first_name", ""),
        last_name=row.get("last_name", ""),
        email=row.get("email", ""),
        address=Address(**{k: row.get(k, "") for k in ADDRESS}),
    )


def _options(text: str) -> dict[str, str]:
    """ "color=blue; size=M" → {"color": "blue", "size": "M"}."""
    out = {}
    for part in text.split(";"):
        if part.strip():
            key, sep, value = part.partition("=")
            if not sep or not key.strip():
                raise ValueError(f"options {text!r}: write them as key=value; key=value")
            out[key.strip()] = value.strip()
    return out


def _price(text: str) -> float:
    digits = re.sub(r"^[^\d]+|[^\d]+$", "", text)  # "$12.50", "12,50 EUR"
    try:
        value = parse_amount(digits) if digits else None
    except ValueError:
        value = None
    if value is None or value < 0 or text.strip().startswith("-"):
        raise ValueError(f"price {text!r} is not an amount")
    return value


def _why(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        e = exc.errors()[0]
        return f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
    if isinstance(exc, KeyError):
        return f"missing {exc.args[0]!r}"
    return str(exc)
