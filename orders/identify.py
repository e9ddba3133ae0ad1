"""Who a conversation is about: the customer identified from what the customer wrote — an
e-mail address, a customer id, an order number, or a name with a zip code — and only when
exactly one customer fits. Never guessed: with nothing that identifies one customer, the
console asks for it."""

from __future__ import annotations

import re

from pydantic import BaseModel

from base.language.text import fold

from .records import Customer, Order
from .store import OrderStore

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# a token an id or a postcode could be: letters, digits, "#", "_" or "-", with a digit
TOKEN = re.compile(r"#?[\w-]*\d[\w-]*")


class Identity(BaseModel):
    customer: Customer | None = None
    by: str = ""  # "email", "customer id", "order number", "name and zip code"
    orders_named: list[str] = []  # order ids the conversation names that the store holds
    ambiguous: list[str] = []  # customer ids that fit equally, when more than one did
    note: str = ""  # what is missing, said to the agent


def identify(store: OrderStore, texts: list[str]) -> Identity:
    """`texts`: what the customer wrote, oldest first."""
    text = "\n".join(texts)
    named_orders = _orders_named(store, text)
    found: dict[str, tuple[Customer, str]] = {}
    for email in EMAIL.findall(text):
        for c in store.customers_by_email(email):
            found.setdefault(c.id, (c, "email"))
    for token in {t.strip("-_") for t in TOKEN.findall(text)}:
        if c := store.customer(token):
            found.setdefault(c.id, (c, "customer id"))
    if not found:
        for c in _by_name_and_zip(store, text):
            found.setdefault(c.id, (c, "name and zip code"))
    if not found:
        for order in named_orders:
            if c := store.customer(order.customer_id):
                found.setdefault(c.id, (c, "order number"))
    ids = [o.id for o in named_orders]
    if len(found) == 1:
        customer, by = next(iter(found.values()))
        return Identity(customer=customer, by=by, orders_named=ids)
    if len(found) > 1:
        return Identity(
            orders_named=ids,
            ambiguous=sorted(found),
            note="more than one customer fits what the conversation says: ask for the "
            "e-mail address on the account",
        )
    return Identity(
        orders_named=ids,
        note="the customer is not identified: ask for the e-mail address on the account, "
        "or their name and zip code",
    )


def _orders_named(store: OrderStore, text: str) -> list[Order]:
    out: dict[str, Order] = {}
    for token in TOKEN.findall(text):
        for candidate in dict.fromkeys([token, token.lstrip("#"), "#" + token.lstrip("#")]):
            if order := store.order(candidate):
                out.setdefault(order.id, order)
                break
    return list(out.values())


def _by_name_and_zip(store: OrderStore, text: str) -> list[Customer]:
    """Customers whose zip code the text holds and whose first and last names it says."""
    words = set(re.findall(r"[\w'-]+", fold(text)))
    out = []
    for token in {t for t in TOKEN.findall(text) if not t.startswith("#")}:
        for c in store.customers_by_zip(token):
            first, last = fold(c.first_name), fold(c.last_name)
            if first and last and first in words and last in words:
                out.append(c)
    return out
