"""What the order store holds: customers with their addresses and payment methods, orders
with their lines, fulfilments and payments, and the variants a line can become."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Address(BaseModel):
    address1: str = ""
    address2: str = ""
    city: str = ""
    state: str = ""
    country: str = ""
    zip: str = ""

    def line(self) -> str:
        parts = [self.address1, self.address2, self.city, f"{self.state} {self.zip}".strip()]
        return ", ".join(p for p in [*parts, self.country] if p)


class PaymentMethod(BaseModel):
    id: str
    source: str  # as the shop names it: "credit_card", "paypal", "gift_card" …
    brand: str = ""
    last_four: str = ""
    balance: float | None = None  # a gift card's

    def label(self) -> str:
        name = self.source.replace("_", " ")
        ending = f"ending {self.last_four}" if self.last_four else ""
        if self.brand or ending:
            name += f" ({' '.join(x for x in (self.brand, ending) if x)})"
        if self.balance is not None:
            name += f", balance {self.balance:.2f}"
        return name


class Customer(BaseModel):
    id: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    address: Address = Field(default_factory=Address)
    payment_methods: list[PaymentMethod] = Field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def payment(self, method_id: str) -> PaymentMethod | None:
        return next((m for m in self.payment_methods if m.id == method_id), None)


class OrderLine(BaseModel):
    item_id: str  # the variant
    product_id: str
    name: str
    options: dict[str, str] = Field(default_factory=dict)
    price: float

    def label(self) -> str:
        opts = ", ".join(f"{k} {v}" for k, v in self.options.items())
        return f"{self.name} ({opts})" if opts else self.name


class Fulfilment(BaseModel):
    tracking_ids: list[str] = Field(default_factory=list)
    item_ids: list[str] = Field(default_factory=list)


class Payment(BaseModel):
    kind: str = "payment"  # payment | refund
    amount: float
    payment_method_id: str


class Order(BaseModel):
    id: str
    customer_id: str
    status: str  # as the shop names it: "pending", "processed", "delivered", "cancelled" …
    address: Address = Field(default_factory=Address)
    lines: list[OrderLine] = Field(default_factory=list)
    fulfilments: list[Fulfilment] = Field(default_factory=list)
    payments: list[Payment] = Field(default_factory=list)

    @property
    def total(self) -> float:
        return round(sum(line.price for line in self.lines), 2)

    def paid_with(self) -> str | None:
        """The payment method of the order's first payment (where refunds go back to)."""
        return next((p.payment_method_id for p in self.payments if p.kind == "payment"), None)


class Variant(BaseModel):
    item_id: str
    product_id: str
    product_name: str
    options: dict[str, str] = Field(default_factory=dict)
    available: bool = True
    price: float
