"""The order store: customers, their payment methods, orders with their lines, and the
variants of the products sold. SQLite in the index folder by default, any SQLAlchemy URL
(PostgreSQL when several workers share it), like the event log and the conversations.

An import replaces the store's contents in one transaction: a reader sees the old orders
or the new ones, never a mix. Nested parts that are only ever read with their owner (an
address, fulfilments, payments, a line's options) are JSON columns."""

from __future__ import annotations

import json

from base.stores import StoreUnavailableError, create_tables, open_engine

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


class OrderStoreUnavailableError(StoreUnavailableError):
    pass


class OrderStore:
    def __init__(self, url: str):
        from sqlalchemy import Boolean, Column, Float, Integer, MetaData, String, Table, Text

        self.engine = open_engine(url, "order store", OrderStoreUnavailableError)
        meta = MetaData()
        self.customers = Table(
            "customers",
            meta,
            Column("id", String(128), primary_key=True),
            Column("first_name", String(200), nullable=False, default=""),
            Column("last_name", String(200), nullable=False, default=""),
            Column("email", String(320), nullable=False, default="", index=True),
            Column("zip", String(32), nullable=False, default="", index=True),
            Column("address", Text, nullable=False, default="{}"),
        )
        self.payment_methods = Table(
            "payment_methods",
            meta,
            Column("id", String(128), primary_key=True),
            Column("customer_id", String(128), nullable=False, index=True),
            Column("source", String(64), nullable=False),
            Column("brand", String(64), nullable=False, default=""),
            Column("last_four", String(8), nullable=False, default=""),
            Column("balance", Float, nullable=True),
        )
        self.orders = Table(
            "orders",
            meta,
            Column("id", String(128), primary_key=True),
            Column("customer_id", String(128), nullable=False, index=True),
            Column("status", String(64), nullable=False),
            Column("address", Text, nullable=False, default="{}"),
            Column("fulfilments", Text, nullable=False, default="[]"),
            Column("payments", Text, nullable=False, default="[]"),
        )
        self.lines = Table(
            "order_lines",
            meta,
            Column("order_id", String(128), primary_key=True),
            Column("position", Integer, primary_key=True),
            Column("item_id", String(128), nullable=False, index=True),
            Column("product_id", String(128), nullable=False),
            Column("name", String(500), nullable=False),
            Column("options", Text, nullable=False, default="{}"),
            Column("price", Float, nullable=False),
        )
        self.variants = Table(
            "variants",
            meta,
            Column("item_id", String(128), primary_key=True),
            Column("product_id", String(128), nullable=False, index=True),
            Column("product_name", String(500), nullable=False),
            Column("options", Text, nullable=False, default="{}"),
            Column("available", Boolean, nullable=False, default=True),
            Column("price", Float, nullable=False),
        )
        self._tables = [
            self.customers,
            self.payment_methods,
            self.orders,
            self.lines,
            self.variants,
        ]
        create_tables(meta, self.engine, f"order store {self.where}", OrderStoreUnavailableError)

    @property
    def where(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    # ---- writing ---------------------------------------------------------------------------
    def replace_all(
        self, customers: list[Customer], orders: list[Order], variants: list[Variant]
    ) -> None:
        """The store's contents replaced in one transaction."""
        with self.engine.begin() as conn:
            for table in self._tables:
                conn.execute(table.delete())
            if customers:
                conn.execute(self.customers.insert(), [_customer_row(c) for c in customers])
                methods = [
                    {**m.model_dump(), "customer_id": c.id}
                    for c in customers
                    for m in c.payment_methods
                ]
                if methods:
                    conn.execute(self.payment_methods.insert(), methods)
            if orders:
                conn.execute(self.orders.insert(), [_order_row(o) for o in orders])
                lines = [row for o in orders for row in _line_rows(o)]
                if lines:
                    conn.execute(self.lines.insert(), lines)
            if variants:
                conn.execute(
                    self.variants.insert(),
                    [{**v.model_dump(), "options": json.dumps(v.options)} for v in variants],
                )

    def save_order(self, order: Order) -> None:
        """One order written back whole (its lines replaced), in one transaction."""
        from sqlalchemy import delete, update

        with self.engine.begin() as conn:
            row = _order_row(order)
            conn.execute(update(self.orders).where(self.orders.c.id == order.id).values(**row))
            conn.execute(delete(self.lines).where(self.lines.c.order_id == order.id))
            if order.lines:
                conn.execute(self.lines.insert(), _line_rows(order))

    # ---- reading ---------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        from sqlalchemy import func, select

        with self.engine.connect() as conn:
            return {
                t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in self._tables
            }

    def customer(self, customer_id: str) -> Customer | None:
        found = self._customers(self.customers.c.id == customer_id)
        return found[0] if found else None

    def customers_by_email(self, email: str) -> list[Customer]:
        from sqlalchemy import func

        return self._customers(func.lower(self.customers.c.email) == email.strip().lower())

    def customers_by_zip(self, zip_code: str) -> list[Customer]:
        return self._customers(self.customers.c.zip == zip_code.strip())

    def order(self, order_id: str) -> Order | None:
        found = self._orders(self.orders.c.id == order_id)
        return found[0] if found else None

    def orders_of(self, customer_id: str) -> list[Order]:
        return self._orders(self.orders.c.customer_id == customer_id)

    def variants_of(self, product_id: str) -> list[Variant]:
        from sqlalchemy import select

        with self.engine.connect() as conn:
            rows = conn.execute(
                select(self.variants).where(self.variants.c.product_id == product_id)
            ).mappings()
            return [_variant(r) for r in rows]

    def variant(self, item_id: str) -> Variant | None:
        from sqlalchemy import select

        with self.engine.connect() as conn:
            row = (
                conn.execute(select(self.variants).where(self.variants.c.item_id == item_id))
                .mappings()
                .first()
            )
            return _variant(row) if row else None

    def _with_children(self, table, where, child, key: str, order_by=()):
        """The rows that match, and their children (by `key`) in one more query."""
        from sqlalchemy import select

        with self.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(select(table).where(where)).mappings()]
            children: dict[str, list[dict]] = {}
            if rows:
                ids = [r["id"] for r in rows]
                query = select(child).where(child.c[key].in_(ids)).order_by(*order_by)
                for r in conn.execute(query).mappings():
                    d = dict(r)
                    children.setdefault(d.pop(key), []).append(d)
        return rows, children

    def _customers(self, where) -> list[Customer]:
        rows, methods = self._with_children(
            self.customers, where, self.payment_methods, "customer_id"
        )
        return [
            Customer(
                id=r["id"],
                first_name=r["first_name"],
                last_name=r["last_name"],
                email=r["email"],
                address=Address(**json.loads(r["address"])),
                payment_methods=[PaymentMethod(**m) for m in methods.get(r["id"], [])],
            )
            for r in rows
        ]

    def _orders(self, where) -> list[Order]:
        order_by = (self.lines.c.order_id, self.lines.c.position)
        rows, lines = self._with_children(self.orders, where, self.lines, "order_id", order_by)
        return [
            Order(
                id=r["id"],
                customer_id=r["customer_id"],
                status=r["status"],
                address=Address(**json.loads(r["address"])),
                lines=[_line(d) for d in lines.get(r["id"], [])],
                fulfilments=[Fulfilment(**f) for f in json.loads(r["fulfilments"])],
                payments=[Payment(**p) for p in json.loads(r["payments"])],
            )
            for r in rows
        ]


def _line(row: dict) -> OrderLine:
    fields = {k: v for k, v in row.items() if k != "position"}
    return OrderLine(**{**fields, "options": json.loads(fields["options"])})


def _customer_row(c: Customer) -> dict:
    return {
        "id": c.id,
        "first_name": c.first_name,
        "last_name": c.last_name,
        "email": c.email,
        "zip": c.address.zip,
        "address": c.address.model_dump_json(),
    }


def _order_row(o: Order) -> dict:
    return {
        "id": o.id,
        "customer_id": o.customer_id,
        "status": o.status,
        "address": o.address.model_dump_json(),
        "fulfilments": json.dumps([f.model_dump() for f in o.fulfilments]),
        "payments": json.dumps([p.model_dump() for p in o.payments]),
    }


def _line_rows(o: Order) -> list[dict]:
    return [
        {**line.model_dump(), "options": json.dumps(line.options), "order_id": o.id, "position": i}
        for i, line in enumerate(o.lines)
    ]


def _variant(r) -> Variant:
    d = dict(r)
    d["options"] = json.loads(d["options"])
    return Variant(**d)
