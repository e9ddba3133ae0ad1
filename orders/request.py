"""Reading a customer's request against their own orders: which order lines they mean
(named by the products' own names, or "everything"), what they want done with each
(cancel, return, change to another variant, a new address, another payment method, a
person), and — for a change — which variant of the same product their words point to.

Only what the store holds is ever proposed: lines of the customer's orders, variants of the
same product, the customer's own payment methods and addresses."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from base.language.general import phrasings
from base.language.quantities import find_quantities
from base.language.text import fold, term

from .records import Customer, Order, OrderLine, Variant

_P = phrasings()
KINDS = {  # what a customer asks, by the words that say it
    "cancel": _P.pattern("wants_cancel"),
    "return": _P.pattern("wants_return"),
    "change": _P.pattern("wants_change"),
    "address": _P.pattern("wants_address"),
    "payment": _P.pattern("wants_payment"),
    "person": _P.pattern("wants_person"),
}
ALL = _P.pattern("all_items")
EXCEPT = _P.pattern("except_items")
MORE, LESS = _P.pattern("more_of"), _P.pattern("less_of")
CHEAPEST, PRICIEST = _P.pattern("cheapest"), _P.pattern("priciest")
PROFILE_ADDRESS = _P.pattern("profile_address")
SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")


@dataclass
class Mention:
    """An order line the customer named, where, and what they asked for it."""

    order: Order
    line: OrderLine
    kind: str  # cancel | return | change
    said: str  # the words about this item (after its name, to the next item named)


@dataclass
class Reading:
    mentions: list[Mention] = field(default_factory=list)
    kinds: set[str] = field(default_factory=set)  # every kind of request the text holds
    orders_named: list[str] = field(default_factory=list)
    sentences: list[str] = field(default_factory=list)


def read_request(text: str, customer: Customer, orders: list[Order], named: list[str]) -> Reading:
    """`orders`: the customer's orders; `named`: the order ids the conversation names."""
    out = Reading(orders_named=[o for o in named if any(x.id == o for x in orders)])
    out.sentences = [s for s in SENTENCE.split(text) if s.strip()]
    lower = fold(text)
    kinds_at = sorted(
        (m.start(), kind) for kind, pattern in KINDS.items() for m in pattern.finditer(lower)
    )
    out.kinds = {k for _, k in kinds_at}
    names = _line_names(orders)
    found = []  # (start, end, product name) of each product named
    for name, patterns in names.items():
        for pattern in patterns:
            found += [(m.start(), m.end(), name) for m in pattern.finditer(lower)]
    found = _outermost(found)
    starts = [s for s, _, _ in found]
    for n, (start, end, name) in enumerate(found):
        stop = starts[n + 1] if n + 1 < len(found) else _sentence_end(lower, end)
        kind = _kind_for(kinds_at, lower, start)
        if kind not in ("cancel", "return", "change"):
            continue
        for order, line in _lines_meant(orders, name, kind, lower, start, out.orders_named):
            out.mentions.append(Mention(order, line, kind, lower[end:stop]))
    out.mentions += _everything(lower, kinds_at, orders, out)
    return out


def _line_names(orders: list[Order]) -> dict[str, list[re.Pattern]]:
    """Each product name in the orders → the patterns that name it: the whole name, the
    name written as one word ("tshirt"), its head noun, and a first word no other product
    name starts with ("jigsaw")."""
    names = {line.name for o in orders for line in o.lines}
    firsts = [fold(n).split()[0] for n in names if fold(n).split()]
    out = {}
    for name in names:
        words = re.findall(r"[\w]+", fold(name))
        if not words:
            continue
        forms = {" ".join(words), "".join(words), words[-1]}
        if len(words) > 1 and len(words[0]) >= 5 and firsts.count(words[0]) == 1:
            forms.add(words[0])
        out[name] = [
            re.compile(rf"\b{re.escape(f)}(?:e?s)?\b") for f in sorted(forms, key=len, reverse=True)
        ]
    return out


def _outermost(found: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Overlapping matches kept once: the longest ("mechanical keyboard" over "keyboard")."""
    out: list[tuple[int, int, str]] = []
    for s, e, name in sorted(found, key=lambda x: (x[0], -(x[1] - x[0]))):
        if out and s < out[-1][1]:
            continue
        out.append((s, e, name))
    return out


def _sentence_end(lower: str, at: int) -> int:
    m = re.compile(r"[.!?;\n]").search(lower, at)
    return m.start() if m else len(lower)


def _kind_for(kinds_at: list[tuple[int, str]], lower: str, at: int) -> str | None:
    """The request nearest before the item in its sentence, else the nearest before it,
    else the first after it in its sentence."""
    begin = max(lower.rfind(c, 0, at) for c in ".!?;\n")
    before = [k for pos, k in kinds_at if pos < at and k in ("cancel", "return", "change")]
    in_sentence = [
        k for pos, k in kinds_at if begin < pos < at and k in ("cancel", "return", "change")
    ]
    if in_sentence:
        return in_sentence[-1]
    end = _sentence_end(lower, at)
    after = [k for pos, k in kinds_at if at < pos < end and k in ("cancel", "return", "change")]
    if after:
        return after[0]
    return before[-1] if before else None


def _fits(order: Order, kind: str) -> bool:
    """An order a request could be about, by its state: returns and exchanges are of what
    arrived, cancellations and changes of what has not (the rules decide what is allowed)."""
    status = fold(order.status)
    if kind == "cancel":
        return status == "pending"
    if kind == "return":
        return status == "delivered"
    return status in ("pending", "delivered")


def _lines_meant(orders, name, kind, lower, at, named) -> list[tuple[Order, OrderLine]]:
    holding = [o for o in orders if any(line.name == name for line in o.lines)]
    sentence = lower[max(lower.rfind(c, 0, at) for c in ".!?;\n") + 1 : _sentence_end(lower, at)]
    here = [o for o in holding if fold(o.id) in sentence or fold(o.id).lstrip("#") in sentence]
    pool = here or [o for o in holding if o.id in named] or holding
    fitting = [o for o in pool if _fits(o, kind)] or pool
    return [(o, line) for o in fitting for line in o.lines if line.name == name]


def _everything(lower, kinds_at, orders, out: Reading) -> list[Mention]:
    """ "return everything", "cancel all my orders", "everything except the <product>"."""
    mentions = []
    for m in ALL.finditer(lower):
        kind = _kind_for(kinds_at, lower, m.start())
        if kind not in ("cancel", "return"):
            continue
        end = _sentence_end(lower, m.end())
        excepted = set()
        if x := EXCEPT.search(lower, m.end(), end):
            excepted = {
                mm.line.item_id
                for mm in out.mentions
                if x.start() < lower.find(fold(mm.line.name)) < end
            }
            excepted |= {
                line.item_id
                for o in orders
                for line in o.lines
                if re.search(rf"\b{re.escape(fold(line.name).split()[-1])}", lower[x.end() : end])
            }
        pool = [o for o in orders if o.id in out.orders_named] or orders
        for order in [o for o in pool if _fits(o, kind)]:
            if excepted and not any(line.item_id in excepted for line in order.lines):
                continue  # "everything except the <product>": the order that holds it
            mentions += [
                Mention(order, line, kind, "")
                for line in order.lines
                if line.item_id not in excepted
            ]
        if excepted:
            out.mentions = [mm for mm in out.mentions if mm.line.item_id not in excepted]
    return mentions


# ---- the variant meant ---------------------------------------------------------------------
def variant_meant(line: OrderLine, said: str, variants: list[Variant]) -> Variant | None:
    """The available variant of the line's product, other than its own, that the customer's
    words about it point to: values they name, "bigger"/"smaller" on a measured option,
    the cheapest or the dearest. None when their words point to none."""
    candidates = [v for v in variants if v.available and v.item_id != line.item_id]
    if not candidates:
        return None
    said_terms = {term(w) for w in re.findall(r"[\w.]+", said)}
    said_text = " " + " ".join(re.findall(r"[\w.]+", said)) + " "
    more, less = bool(MORE.search(said)), bool(LESS.search(said))
    cheapest, priciest = bool(CHEAPEST.search(said)), bool(PRICIEST.search(said))

    def said_share(value: str) -> float:
        """How much of a value the customer's words hold ("Google Home" for "Google
        Assistant": half)."""
        words = [w for w in re.findall(r"[\w.]+", fold(value)) if len(w) > 1 or w.isdigit()]
        if not words:
            return 0.0
        if f" {' '.join(words)} " in said_text:
            return 1.0
        return sum(term(w) in said_terms for w in words) / len(words)

    def score(v: Variant) -> tuple:
        named = measured = 0.0
        kept = changed = 0
        for key, value in v.options.items():
            old = line.options.get(key)
            if value == old:
                kept += 1
                continue
            share = said_share(value)
            if share > 0:
                named += share
            else:
                changed += 1
            a, b = _amount(old), _amount(value)
            if a is not None and b is not None and ((more and b > a) or (less and b < a)):
                measured += 1 - min(abs(b - a) / max(abs(a), 1e-9), 1) / 2  # nearer first
        price = -v.price if priciest else v.price
        return (named + measured, -changed, kept, price if (cheapest or priciest) else 0)

    best = max(candidates, key=score)
    top = score(best)
    if top[0] <= 0 and not (cheapest or priciest):
        return None  # nothing they said picks a variant: ask which option
    return best


def _amount(value: str | None) -> float | None:
    if not value:
        return None
    found = find_quantities(fold(value))
    if found:
        return found[0].value
    m = re.match(r"\s*(\d+(?:\.\d+)?)", value)
    return float(m.group(1)) if m else None


def payment_meant(text: str, customer: Customer, fallback: str | None) -> str | None:
    """The customer's own payment method their words name ("to my PayPal", "a gift card"),
    when exactly one source is named; else `fallback` (the order's own)."""
    lower = fold(text)
    named = {
        m.source
        for m in customer.payment_methods
        if re.search(rf"\b{re.escape(fold(m.source).replace('_', ' '))}\b", lower)
        or re.search(rf"\b{re.escape(fold(m.source))}\b", lower)
    }
    if len(named) == 1:
        source = next(iter(named))
        methods = [m for m in customer.payment_methods if m.source == source]
        return methods[0].id
    return fallback


def profile_address_meant(text: str) -> bool:
    return bool(PROFILE_ADDRESS.search(fold(text)))
