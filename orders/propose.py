"""From a request read against the customer's orders to the exact actions to propose, each
checked against the shop's rules and the order's actual state: which order, which items,
which new variants, the price difference and the payment method. An action the rules
forbid for the order is still shown, with why, and never as ready to confirm."""

from __future__ import annotations

import re
from collections.abc import Callable

from pydantic import BaseModel, Field

from base.language.text import fold, term

from .identify import Identity, identify
from .records import Customer, Order, OrderLine, Variant
from .request import (
    ALL,
    ITEM_KINDS,
    KINDS,
    Mention,
    Reading,
    contingencies,
    is_line,
    named_lines,
    payment_meant,
    profile_address_meant,
    read_request,
    variant_meant,
)
from .rules import ADDRESS_FIELDS, KIND_ACTIONS, ServiceRules
from .store import OrderStore
from .typed_address import typed_address


class Proposal(BaseModel):
    name: str  # the action, in τ²-bench retail's vocabulary
    arguments: dict  # its arguments, exactly as the order store holds them
    order_id: str = ""
    items: list[str] = Field(default_factory=list)  # the lines it acts on, as labels
    new_items: list[str] = Field(default_factory=list)  # what they become, as labels
    difference: float | None = None  # what the customer pays (+) or gets back (-)
    payment: str = ""  # the payment method, as a label
    allowed: bool = True
    why_not: list[str] = Field(default_factory=list)  # the rules it breaks
    missing: list[str] = Field(default_factory=list)  # what to ask before it can be proposed
    passage: str = ""  # the words of the policy passage it rests on
    proposed_by: str = "rules"  # "llm" when the LLM picked a new variant the rules could not


class ServiceCase(BaseModel):
    """What the console shows beside a conversation: who, their orders, what to do."""

    customer: Customer | None = None
    identified_by: str = ""
    orders: list[Order] = Field(default_factory=list)
    focus: list[str] = Field(default_factory=list)  # the orders the conversation is about
    proposals: list[Proposal] = Field(default_factory=list)
    questions: list[str] = Field(default_factory=list)  # what to ask the customer first
    note: str = ""  # what is missing (no customer identified …)


# the LLM, when there is one: given an order line, the customer's words about it and the
# variants it could become, the item id it proposes (or None); the rules and the store check it
VariantChooser = Callable[[OrderLine, str, list[Variant]], "str | None"]


def service_case(
    store: OrderStore,
    rules: ServiceRules,
    customer_texts: list[str],
    choose: VariantChooser | None = None,
) -> ServiceCase:
    """`choose`: asked for the new variant where the customer's words name none the rules
    can read ("something more elegant"); what it picks is proposed only if it is an
    available variant of the same product, and is marked as the LLM's."""
    identity: Identity = identify(store, customer_texts)
    if identity.customer is None:
        return ServiceCase(note=identity.note)
    customer = identity.customer
    orders = store.orders_of(customer.id)
    asked, fallbacks = contingencies("\n".join(customer_texts))
    reading = read_request(asked, customer, orders, identity.orders_named, rules.states_for)
    found = propose(store, rules, customer, orders, reading, asked, choose)
    found = _with_fallbacks(
        store, rules, customer, orders, found, fallbacks, reading.orders_named, asked, choose
    )
    # an action nothing could be filled in for is a question to ask, not a proposal
    proposals = [p for p in found if p.items or not p.missing]
    questions = list(dict.fromkeys(q for p in found for q in p.missing))
    focus = list(
        dict.fromkeys(
            [p.order_id for p in proposals if p.order_id]
            + [m.order.id for m in reading.mentions]
            + reading.orders_named
        )
    )
    return ServiceCase(
        customer=customer,
        identified_by=identity.by,
        orders=orders,
        focus=focus,
        proposals=proposals,
        questions=questions,
    )


ACTION_KIND = {a: kind for kind in ITEM_KINDS for a in KIND_ACTIONS[kind]}  # item requests


def _with_fallbacks(
    store, rules, customer, orders, found, fallbacks, named, asked: str, choose=None
) -> list[Proposal]:
    """The proposals, with what the customer asked for in case a request fails ("if it
    cannot be returned, cancel it"; "if not, refund it to my gift card") in place of, or
    beside, each request that failed."""
    out = list(found)
    for fallback in fallbacks:
        about = named_lines(fold(fallback.about), orders)
        names = {name for _, _, name in about}

        def is_about(p: Proposal, names=names) -> bool:
            order = next((o for o in orders if o.id == p.order_id), None)
            return order is not None and (
                not names or any(is_line(line, n) for line in order.lines for n in names)
            )

        failed = [p for p in out if p.order_id and not p.allowed and is_about(p)]
        if any(p.allowed and is_about(p) for p in out if p.order_id) and not failed:
            continue  # what it was about can be done as asked
        for p in _fallback(
            store, rules, customer, orders, failed, fallback.text, names, named, choose
        ):
            if "reason" in p.arguments:  # a reason given anywhere in the conversation
                p.arguments["reason"] = cancel_reason(rules, fallback.text, asked)
            key = (p.name, repr(p.arguments))
            out = [q for q in out if (q.name, repr(q.arguments)) != key] + [p]
    return out


def _fallback(
    store, rules, customer, orders, failed, text, names, named, choose=None
) -> list[Proposal]:
    """One fallback read against the orders of the requests it replaces (or the orders of
    the items asked about before it); one that names no item is about their items."""
    ids = {p.order_id for p in failed} or {
        o.id for o in orders for line in o.lines for n in names if is_line(line, n)
    }
    targets = [o for o in orders if o.id in ids] or orders
    reading = read_request(text, customer, targets, named, rules.states_for)
    if reading.mentions or not failed:
        return propose(store, rules, customer, targets, reading, text, choose)
    own = [k for k in ITEM_KINDS if k in reading.kinds]
    in_text = {name for _, _, name in named_lines(fold(text), targets)}
    for p in failed:
        kind = own[0] if own else ACTION_KIND.get(p.name)
        order = next(o for o in targets if o.id == p.order_id)
        items = set(p.arguments.get("item_ids") or [])
        lines = [
            line
            for line in order.lines
            if any(is_line(line, n) for n in in_text)
            or (not in_text and (line.item_id in items or (not items and kind == "cancel")))
        ]
        if kind:
            reading.mentions += [Mention(order, line, kind, fold(text)) for line in lines]
    return propose(store, rules, customer, targets, reading, text, choose)


def propose(
    store, rules, customer, orders, reading: Reading, text: str, choose=None
) -> list[Proposal]:
    out: list[Proposal] = []
    by_order: dict[tuple[str, str], list] = {}
    for m in reading.mentions:
        by_order.setdefault((m.order.id, m.kind), []).append(m)
    order_of = {o.id: o for o in orders}
    for (order_id, kind), mentions in by_order.items():
        order = order_of[order_id]
        lines = list({m.line.item_id: m for m in mentions}.values())
        if kind == "cancel":
            out.append(_cancel(order, rules, text, {m.line.item_id for m in mentions}))
        elif kind == "return":
            out.append(_return(order, lines, customer, rules, text))
        else:
            out.append(_change(store, order, lines, customer, rules, text, choose))
    if "address" in reading.kinds:
        out += _addresses(store, customer, orders, reading, rules)
    if "payment" in reading.kinds:
        out += _payment(customer, orders, reading, rules, text)
    if "person" in reading.kinds and not out:
        out.append(
            _check(
                Proposal(
                    name="transfer_to_human_agents",
                    arguments={"summary": " ".join(text.split())[:300]},
                ),
                None,
                rules,
            )
        )
    return out


def cancel_reason(rules: ServiceRules, text: str, otherwise: str = "") -> str:
    """The reason the rules allow that the customer's words hold most of; else, the one
    `otherwise`'s words hold (the whole conversation); else the rules' first."""
    rule = rules.actions.get("cancel_pending_order")
    reasons = rule.reasons if rule else []
    said = {term(w) for w in fold(text).split()}
    shared = {}  # most of a reason's words said ("I ordered it by mistake"), not one
    for r in reasons:
        words = {term(w) for w in r.split()}
        share = len(words & said) / len(words) if words else 0.0
        shared[r] = share if share > 0.5 else 0.0
    if otherwise and not any(shared.values()):
        return cancel_reason(rules, otherwise)
    return max(reasons, key=lambda r: (shared[r], -reasons.index(r)), default="")


def _cancel(order: Order, rules: ServiceRules, text: str, named: set[str]) -> Proposal:
    """The whole order cancelled: the action takes no items, so asked for some of an order's
    items only, it is not what the customer asked (the reply says so)."""
    reason = cancel_reason(rules, text)
    p = Proposal(
        name="cancel_pending_order",
        arguments={"order_id": order.id, "reason": reason},
        order_id=order.id,
        items=[line.label() for line in order.lines],
        difference=-order.total,
        payment=order.paid_with() or "",
    )
    left = [line.label() for line in order.lines if line.item_id not in named]
    if left:
        p.why_not.append(
            f"only a whole order can be cancelled; order {order.id} also holds {', '.join(left)}"
        )
    return _check(p, order, rules)


def _return(order, mentions, customer: Customer, rules, text) -> Proposal:
    method = payment_meant(text, customer, order.paid_with())
    p = Proposal(
        name="return_delivered_order_items",
        arguments={
            "order_id": order.id,
            "item_ids": [m.line.item_id for m in mentions],
            "payment_method_id": method,
        },
        order_id=order.id,
        items=[m.line.label() for m in mentions],
        difference=-round(sum(m.line.price for m in mentions), 2),
        payment=_label(customer, method),
    )
    rule = rules.actions.get(p.name)
    if rule and rule.refund_to and method and method != order.paid_with():
        source = customer.payment(method).source if customer.payment(method) else ""
        if "any" not in rule.refund_to and source not in rule.refund_to:
            p.why_not.append(
                "a refund goes to the original payment method or "
                + " or ".join(s.replace("_", " ") for s in rule.refund_to if s != "original")
            )
    if not method:
        p.missing.append("the payment method for the refund")
    return _check(p, order, rules)


def _change(store, order, mentions, customer: Customer, rules, text, choose=None) -> Proposal:
    name = next(
        (a for a in KIND_ACTIONS["change"] if rules.allows_in(a, order.status)),
        KIND_ACTIONS["change"][-1],  # none allows it: the rules say why when checked
    )
    items, new_items, labels, new_labels, missing = [], [], [], [], []
    by_llm: list[str] = []  # the lines whose new variant the LLM picked
    ids = set(re.findall(r"\d{4,}", text))  # item ids written out
    difference = 0.0
    for m in mentions:
        variants = store.variants_of(m.line.product_id)
        new = variant_meant(m.line, m.said, variants, ids)
        if new is None and choose is not None and (new := _chosen(choose, m, variants)):
            by_llm.append(m.line.label())
        if new is None:
            missing.append(f"which {m.line.name} they want instead (its options)")
            continue
        items.append(m.line.item_id)
        new_items.append(new.item_id)
        labels.append(m.line.label())
        new_labels.append(
            f"{new.product_name} ({', '.join(f'{k} {v}' for k, v in new.options.items())})"
        )
        difference += new.price - m.line.price
    if not items:
        return Proposal(
            name=name,
            arguments={"order_id": order.id},
            order_id=order.id,
            missing=missing,
            allowed=False,
        )
    method = payment_meant(text, customer, order.paid_with())
    p = Proposal(
        name=name,
        arguments={
            "order_id": order.id,
            "item_ids": items,
            "new_item_ids": new_items,
            "payment_method_id": method,
        },
        order_id=order.id,
        items=labels,
        new_items=new_labels,
        difference=round(difference, 2),
        payment=_label(customer, method),
        missing=missing,
        proposed_by="llm" if by_llm else "rules",
    )
    if short := _short_balance(customer, method, rules.actions.get(name), difference):
        p.why_not.append(short)
    return _check(p, order, rules)


def _chosen(choose: VariantChooser, m, variants: list[Variant]) -> Variant | None:
    """The LLM's pick for a line, if it is an available variant of the same product other
    than the line's own; None otherwise (or when the LLM fails: the question stays)."""
    offered = [v for v in variants if v.available and v.item_id != m.line.item_id]
    if not offered or len(re.findall(r"\w+", m.said)) < 3:
        return None  # nothing said about what it should become: a question, not a guess
    try:
        picked = choose(m.line, m.said, offered)
    except Exception:  # noqa: BLE001 - a failed model call leaves the question to the agent
        return None
    return next((v for v in offered if v.item_id == picked), None)


def _addresses(store, customer, orders, reading: Reading, rules) -> list[Proposal]:
    """A new shipping address for pending orders (and the profile's, when asked): one the
    customer types out in full (read into the address fields), else one the store already
    holds — another order named beside it ("the same as order #W2"), an address of the
    customer's whose city the request names ("my Chicago address"), or their profile
    address. Otherwise the new address is asked for."""
    asking = " ".join(s for s in reading.sentences if KINDS["address"].search(fold(s)))
    said = fold(asking)
    if not said:
        return []

    def named_here(o: Order) -> bool:
        return fold(o.id) in said or fold(o.id).lstrip("#") in said

    named = sorted(
        (o for o in orders if o.id in reading.orders_named and named_here(o)),
        key=lambda o: said.find(fold(o.id).lstrip("#")),
    )
    pending = [o for o in orders if rules.allows_in("modify_pending_order_address", o.status)]
    targets = [o for o in named if o in pending][:1]
    source = typed_address(asking, customer, store) or next(
        (o.address for o in named if o not in targets), None
    )
    if source is None:
        known = [customer.address, *(o.address for o in orders)]
        by_city = _by_city(known, said)
        if not by_city and profile_address_meant(said, as_target=True):
            # "change my default address to my daughter's (she lives in Chicago)": an
            # address of theirs whose city the conversation names elsewhere
            others = [a for a in known if a != customer.address]
            by_city = _by_city(others, fold(" ".join(reading.sentences)))
        if len(by_city) == 1:
            source = next(iter(by_city.values()))
        elif profile_address_meant(said):
            source = customer.address
    if not targets:
        if ALL.search(said):
            targets = pending
        else:
            held = [o for o in pending if any(m.order.id == o.id for m in reading.mentions)]
            targets = held or (pending if len(pending) == 1 else [])
    out = []
    for order in targets:
        if source is not None and source == order.address:
            continue  # already there
        args = {"order_id": order.id}
        if source is not None:
            args |= {f: getattr(source, f) for f in ADDRESS_FIELDS}
        p = Proposal(name="modify_pending_order_address", arguments=args, order_id=order.id)
        if source is None:
            p.missing.append("the new address")
        else:
            p.items = [source.line()]
            p.missing += _incomplete(source, customer)
        out.append(_check(p, order, rules))
    if source is not None and source != customer.address and profile_address_meant(said):
        args = {"user_id": customer.id, **{f: getattr(source, f) for f in ADDRESS_FIELDS}}
        user = Proposal(name="modify_user_address", arguments=args, items=[source.line()])
        user.missing += _incomplete(source, customer)
        out.append(_check(user, None, rules))
    if not targets and source is None:
        ask = "which order, and the new address"
        out.append(Proposal(name="modify_pending_order_address", arguments={}, missing=[ask]))
    return out


def _by_city(addresses, said: str) -> dict:
    """The addresses whose city the (folded) words name, one per distinct address."""
    return {
        a.line(): a
        for a in addresses
        if a.city and re.search(rf"\b{re.escape(fold(a.city))}\b", said)
    }


def _incomplete(address, customer: Customer) -> list[str]:
    """What a typed address lacks that the customer's own address has (its state)."""
    return [
        f"the {field} of the new address"
        for field in ADDRESS_FIELDS
        if field != "address2" and getattr(customer.address, field) and not getattr(address, field)
    ]


def _payment(customer, orders, reading: Reading, rules, text) -> list[Proposal]:
    """Another of the customer's payment methods for a pending order ("pay with my PayPal
    instead"): the order named, or their only pending one; the method they name."""
    pending = [o for o in orders if rules.allows_in("modify_pending_order_payment", o.status)]
    named = [o for o in pending if o.id in reading.orders_named]
    targets = named or (pending if len(pending) == 1 else [])
    if not targets:
        return [
            Proposal(name="modify_pending_order_payment", arguments={}, missing=["which order"])
        ]
    out = []
    for order in targets:
        method = payment_meant(text, customer, None)
        args = {"order_id": order.id, "payment_method_id": method}
        p = Proposal(
            name="modify_pending_order_payment",
            arguments=args,
            order_id=order.id,
            items=[line.label() for line in order.lines],
            payment=_label(customer, method),
        )
        if method is None:
            p.missing.append("which of their payment methods to use")
        elif method == order.paid_with():
            p.why_not.append("that is the payment method the order already uses")
        if short := _short_balance(customer, method, rules.actions.get(p.name), order.total):
            p.why_not.append(short)
        out.append(_check(p, order, rules))
    return out


def _short_balance(customer: Customer, method: str | None, rule, amount: float) -> str | None:
    """Why a payment source the rule says must cover what it pays (a gift card) cannot."""
    pm = customer.payment(method) if method else None
    if rule is None or pm is None or pm.source not in rule.covers or pm.balance is None:
        return None
    if pm.balance >= amount:
        return None
    return f"the {pm.source.replace('_', ' ')} holds {pm.balance:.2f}, less than {amount:.2f}"


def _check(p: Proposal, order: Order | None, rules: ServiceRules) -> Proposal:
    """The rules the proposal must meet for this order: the shop offers the action, the
    order's state allows it, it was not taken already, nothing is missing."""
    rule = rules.actions.get(p.name)
    if rule is None:
        p.why_not.append(f"this shop's rules do not offer {p.name.replace('_', ' ')}")
    else:
        p.passage = rule.passage
        if order is not None and rule.states and order.status not in rule.states:
            allowed = " or ".join(rule.states)
            p.why_not.append(f"order {order.id} is {order.status}; this needs it {allowed}")
        if order is not None and rule.once and order.status in rules.finished_states:
            p.why_not.append(f"order {order.id} was already changed once ({order.status})")
    if p.name in (
        "modify_pending_order_items",
        "exchange_delivered_order_items",
    ) and not p.arguments.get("item_ids"):
        p.why_not.append("no item and new option could be read")
    p.allowed = not p.why_not and not p.missing
    return p


def _label(customer: Customer, method_id: str | None) -> str:
    m = customer.payment(method_id) if method_id else None
    return m.label() if m else (method_id or "")
