"""Reading a customer's request against their own orders: which order lines they mean
(named by the products' own names, or "everything"), what they want done with each
(cancel, return, change to another variant, a new address, another payment method, a
person), and — for a change — which variant of the same product their words point to.

Only what the store holds is ever proposed: lines of the customer's orders, variants of the
same product, the customer's own payment methods and addresses."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from base.language.general import language, phrasings
from base.language.quantities import find_quantities
from base.language.text import fold, noun_forms, superlatives, term

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
ITEM_KINDS = ("cancel", "return", "change")  # the requests about order lines
ALL = _P.pattern("all_items")
WHOLE = _P.pattern("whole_order")
EXCEPT = _P.pattern("except_items")
MORE, LESS = _P.pattern("more_of"), _P.pattern("less_of")
MOST, LEAST = _P.pattern("most_of_all"), _P.pattern("least_of_all")
CHEAPEST, PRICIEST = _P.pattern("cheapest"), _P.pattern("priciest")
DEARER_ONE, CHEAPER_ONE = _P.pattern("dearer_one"), _P.pattern("cheaper_one")
PROFILE_ADDRESS = _P.pattern("profile_address")
CHANGED_TO = _P.pattern("changed_to")  # "… address to <the new one>"
CONDITION, ON_FAILURE = _P.pattern("condition"), _P.pattern("on_failure")
KEEP = _P.pattern("keep_option")
SAME_ORDER, OTHER_ORDER = _P.pattern("same_order"), _P.pattern("other_order")
WITH_ITEM = _P.pattern("came_with")
ONLY = _P.pattern("only_these")
# what a kept option's words run to: a clause's end, "except …", "but …"
KEPT_UNTIL = re.compile(r"[,.;!?()]|" + EXCEPT.pattern + "|" + _P.pattern("contrast").pattern)
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


@dataclass
class Fallback:
    """What a customer asks for in case a request fails: the main clause of a sentence that
    opens with that condition, and the sentence asked before it, which it is about."""

    text: str
    about: str


def contingencies(text: str) -> tuple[str, list[Fallback]]:
    """The text's requests as asked, and its fallbacks ("If it cannot be returned, cancel
    it"). A sentence opening with any other condition ("if several colours are available, I
    prefer black") stays with what is asked."""
    asked: list[str] = []
    fallbacks: list[Fallback] = []
    for sentence in SENTENCE.split(text):
        condition, comma, main = sentence.partition(",")
        if CONDITION.search(fold(condition)) and ON_FAILURE.search(fold(condition)):
            asking = [a for a in asked if any(k.search(fold(a)) for k in KINDS.values())]
            about = (asking or asked or [""])[-1]
            fallbacks.append(Fallback(text=main.strip() if comma else sentence, about=about))
        else:
            asked.append(sentence)
    return " ".join(asked), fallbacks


def read_request(
    text: str,
    customer: Customer,
    orders: list[Order],
    named: list[str],
    states_for: Callable[[str], frozenset[str]],
) -> Reading:
    """`orders`: the customer's orders; `named`: the order ids the conversation names;
    `states_for`: the order states (folded) a kind of request can be met in (the rules')."""
    lower = fold(text)
    out = Reading(orders_named=[o for o in named if any(x.id == o for x in orders)])
    out.orders_named += _orders_by_city(lower, customer, orders, out.orders_named)
    out.sentences = [s for s in SENTENCE.split(text) if s.strip()]
    kinds_at = sorted(
        (m.start(), kind) for kind, pattern in KINDS.items() for m in pattern.finditer(lower)
    )
    out.kinds = {k for _, k in kinds_at}
    found = named_lines(lower, orders)
    exceptions = [(m.start(), _sentence_end(lower, m.end())) for m in EXCEPT.finditer(lower)]
    excepted: set[str] = set()
    said: dict[tuple[str, str, str], Mention] = {}
    previous: set[str] = set()  # the orders of the item named before
    # "the backpack I received with the vacuum cleaner": the second names the order
    anchors = {
        n - 1: name
        for n, (start, _, name) in enumerate(found)
        if n and WITH_ITEM.search(lower, max(0, start - 60), start)
    }
    for n, (start, end, name) in enumerate(found):
        if n - 1 in anchors:
            continue
        if any(a <= start < b for a, b in exceptions):
            excepted |= {
                line.item_id for o in orders for line in o.lines if is_line(line, name)
            }  # "everything except the <product>"
            continue
        later = [s for s, _, other in found[n + 1 :] if other != name]
        # what is said about it: to the next product named, through the sentences after its
        # own that ask for nothing else ("I like the cotton. I prefer black.")
        stop = min([*later[:1], _said_until(lower, end, kinds_at)])
        kind = _kind_for(kinds_at, lower, start)
        if kind not in ITEM_KINDS:
            continue
        if not any(_sentence_start(lower, start) <= p < stop for p, _ in kinds_at):
            stop = min([*later[:1], _sentence_end(lower, stop + 1)])  # its request follows
        meant = _lines_meant(orders, name, kind, lower, start, out.orders_named, states_for)
        begin, finish = _sentence_start(lower, start), _sentence_end(lower, start)
        in_sentence = {x for p, _, x in found if begin <= p < finish}
        meant = _same_or_other_order(meant, lower, start, previous, in_sentence)
        if n in anchors:
            meant = [
                (o, x) for o, x in meant if any(is_line(y, anchors[n]) for y in o.lines)
            ] or meant
        before = lower[max(begin, start - 40) : start]
        if not ALL.search(before):  # "all my pending tshirts": every one of them
            # a change's own sentence says what it becomes, not which it is
            elsewhere = lower[:begin] + " " + lower[finish:]
            meant = _by_values(meant, before, elsewhere if kind == "change" else lower)
        previous = {order.id for order, _ in meant} or previous
        for order, line in _by_price(meant, lower[end:stop]):
            key = (order.id, line.item_id, kind)
            if key in said:  # named again: what is said about it adds up
                said[key].said += " " + lower[end:stop]
            else:
                said[key] = Mention(order, line, kind, lower[end:stop])
    mentions = list(said.values())
    mentions += _the_only_item(lower, kinds_at, orders, found)
    mentions += _orders_whole(lower, kinds_at, orders, found, out.orders_named)
    mentions += _everything(lower, kinds_at, orders, found, excepted, out.orders_named, states_for)
    mentions = [m for m in mentions if m.line.item_id not in excepted]
    out.mentions = _only(lower, kinds_at, found, mentions)
    return out


def _only(lower, kinds_at, found, mentions: list[Mention]) -> list[Mention]:
    """ "Only exchange the desk lamp": a sentence that asks for one kind of request *only*
    for the items it names leaves that request for those items alone (the last such
    sentence decides)."""
    for m in ONLY.finditer(lower):
        begin, end = _sentence_start(lower, m.start()), _sentence_end(lower, m.start())
        kinds = [k for pos, k in kinds_at if m.start() <= pos < end and k in ITEM_KINDS]
        names = {name for s, _, name in found if m.start() <= s < end}
        if len(set(kinds)) != 1 or not names or begin > m.start():
            continue
        mentions = [
            x for x in mentions if x.kind != kinds[0] or any(is_line(x.line, n) for n in names)
        ]
    return mentions


def is_line(line: OrderLine, name: str) -> bool:
    return line.name == name or line.item_id == name


def named_lines(lower: str, orders: list[Order]) -> list[tuple[int, int, str]]:
    """Where the text names a product of the orders (by the name's forms or its product id),
    or one of their lines by its item id: (start, end, product name or item id), in order."""
    found = []
    for name, patterns in _line_names(orders).items():
        for pattern in patterns:
            found += [(m.start(), m.end(), name) for m in pattern.finditer(lower)]
    for o in orders:
        for line in o.lines:
            found += [
                (m.start(), m.end(), line.item_id)
                for m in re.finditer(rf"\b{re.escape(fold(line.item_id))}\b", lower)
            ]
            if re.search(r"\d", line.product_id) and len(line.product_id) >= 4:
                # a product id given for an item id ("change item 1656367028"): its lines
                found += [
                    (m.start(), m.end(), line.name)
                    for m in re.finditer(rf"\b{re.escape(fold(line.product_id))}\b", lower)
                ]
    return _outermost(found)


def _line_names(orders: list[Order]) -> dict[str, list[re.Pattern]]:
    """Each product name in the orders → the patterns that name it: the whole name, the
    name written as one word ("tshirt"), its head noun, a first word no other product name
    starts with ("jigsaw"), and the tail of a one-word name no other name ends with
    ("watch" for "Wristwatch"); each word singular, a plural allowed ("bookshelves")."""
    names = {line.name for o in orders for line in o.lines}
    firsts = [_words(n)[0] for n in names if _words(n)]
    lasts = [_words(n)[-1] for n in names if _words(n)]
    out = {}
    for name in names:
        words = _words(name)
        if not words:
            continue
        forms = {" ".join(words), "".join(words), words[-1]}
        if len(words) > 1 and len(words[0]) >= 5 and firsts.count(words[0]) == 1:
            forms.add(words[0])
        if len(words) == 1 and len(words[0]) >= 8:  # "Bookshelf" written "book shelf"
            w = words[0]
            forms |= {f"{w[:i]} {w[i:]}" for i in range(4, len(w) - 3)}
            tails = {w[i:] for i in range(3, len(w) - 4)}
            forms |= {t for t in tails if sum(x.endswith(t) for x in lasts) == 1}
        out[name] = [
            re.compile(r"\b(?:" + "|".join(map(re.escape, sorted(noun_forms(f)))) + r")\b")
            for f in sorted(forms, key=len, reverse=True)
        ]
    return out


def _words(name: str) -> list[str]:
    return [term(w) for w in re.findall(r"\w+", fold(name))]


def _outermost(found: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Overlapping matches kept once: the longest ("mechanical keyboard" over "keyboard")."""
    out: list[tuple[int, int, str]] = []
    for s, e, name in sorted(found, key=lambda x: (x[0], -(x[1] - x[0]))):
        if out and s < out[-1][1]:
            continue
        out.append((s, e, name))
    return out


def _said_until(lower: str, at: int, kinds_at: list[tuple[int, str]]) -> int:
    end = _sentence_end(lower, at)
    while end < len(lower):
        following = _sentence_end(lower, end + 1)
        if any(end < p < following for p, _ in kinds_at):
            break  # the next sentence asks for something of its own
        end = following
    return end


def _sentence_start(lower: str, at: int) -> int:
    return max(lower.rfind(c, 0, at) for c in ".!?;\n") + 1


def _sentence_end(lower: str, at: int) -> int:
    m = re.compile(r"[.!?;\n]").search(lower, at)
    return m.start() if m else len(lower)


def _kind_for(kinds_at: list[tuple[int, str]], lower: str, at: int) -> str | None:
    """The request nearest before the item in its sentence, else the first after it in its
    sentence, else the nearest before it."""
    acts = [(pos, k) for pos, k in kinds_at if k in ITEM_KINDS]
    begin, end = _sentence_start(lower, at), _sentence_end(lower, at)
    in_sentence = [k for pos, k in acts if begin <= pos < at]
    if in_sentence:
        return in_sentence[-1]
    after = [k for pos, k in acts if at < pos < end]
    if after:
        return after[0]
    before = [k for pos, k in acts if pos < at]
    if before:
        return before[-1]
    # "I received two tablets. I want to return the more expensive one."
    following = [k for pos, k in acts if end < pos < _sentence_end(lower, end + 1)]
    return following[0] if following else None


def _same_or_other_order(meant, lower: str, at: int, previous: set[str], together: set[str]):
    """ "The bookshelf and jigsaw I received in the same order" (`together`: the items its
    sentence names) / "the puzzle in the same order" / "the skateboard in my other order":
    of the lines meant, those in the order that holds them all, else in (or not in) the
    orders of the item named before."""
    sentence = lower[_sentence_start(lower, at) : _sentence_end(lower, at)]
    if not (previous or len(together) > 1) or len({o.id for o, _ in meant}) < 2:
        return meant
    if SAME_ORDER.search(sentence):
        holding = {
            o.id
            for o, _ in meant
            if len(together) > 1 and all(any(is_line(x, n) for x in o.lines) for n in together)
        }
        return [(o, line) for o, line in meant if o.id in (holding or previous)] or meant
    if OTHER_ORDER.search(sentence):
        return [(o, line) for o, line in meant if o.id not in previous] or meant
    return meant


def _orders_by_city(lower: str, customer: Customer, orders: list[Order], named) -> list[str]:
    """Orders named by where they were sent ("the order I sent to my son in Washington"):
    a city the text names that some of the customer's orders went to, not all of them, and
    not the customer's own city."""
    own = fold(customer.address.city)
    cities = {fold(o.address.city) for o in orders if o.address.city} - {own, ""}
    out = []
    for city in cities:
        holding = [o.id for o in orders if fold(o.address.city) == city]
        if len(holding) < len(orders) and re.search(rf"\b{re.escape(city)}\b", lower):
            out += [o for o in holding if o not in named]
    return out


def _terms(text: str) -> set[str]:
    """The words of a text or a value as terms, numbers kept whole ("2.5", "1.5l")."""
    return {term(w) for w in re.findall(r"[\w.]+", fold(text))}


def _held(value: str, words: set[str]) -> bool:
    """Whether every word of an option value is among `words` ("robotic" in "the robotic
    one")."""
    own = _terms(value)
    return bool(own) and own <= words


def _by_values(
    meant: list[tuple[Order, OrderLine]], before: str, text: str
) -> list[tuple[Order, OrderLine]]:
    """Of several lines of one product, the ones whose own option values the customer names:
    just before the name ("the 17-inch laptop"), else elsewhere ("the robotic one")."""
    if len(meant) < 2:
        return meant
    for said in (before, text):
        words = _terms(said)

        def named(line: OrderLine, words=words) -> int:
            return sum(_held(v, words) for v in line.options.values())

        counts = [named(line) for _, line in meant]
        if max(counts) > min(counts):
            return [m for m, c in zip(meant, counts, strict=True) if c == max(counts)]
    return meant


def _by_price(meant: list[tuple[Order, OrderLine]], said: str) -> list[tuple[Order, OrderLine]]:
    """Of several lines of one product, "the more expensive one" or "the cheaper one"."""
    if len(meant) < 2:
        return meant
    if DEARER_ONE.search(said):
        return [max(meant, key=lambda x: x[1].price)]
    if CHEAPER_ONE.search(said):
        return [min(meant, key=lambda x: x[1].price)]
    return meant


def _fits(order: Order, kind: str, states_for: Callable[[str], frozenset[str]]) -> bool:
    """An order a request could be about, by its state: one the rules' actions for that kind
    of request can be taken on (returns: what arrived; cancellations: what has not)."""
    return fold(order.status) in states_for(kind)


def _lines_meant(orders, name, kind, lower, at, named, states_for) -> list[tuple[Order, OrderLine]]:
    holding = [o for o in orders if any(is_line(line, name) for line in o.lines)]
    sentence = lower[_sentence_start(lower, at) : _sentence_end(lower, at)]
    here = [o for o in holding if fold(o.id) in sentence or fold(o.id).lstrip("#") in sentence]
    pool = here or [o for o in holding if o.id in named] or holding
    fitting = [o for o in pool if _fits(o, kind, states_for)] or pool
    return [(o, line) for o in fitting for line in o.lines if is_line(line, name)]


def _the_only_item(lower, kinds_at, orders: list[Order], found) -> list[Mention]:
    """ "Change my pending order's item to red": a sentence asking for a change that names
    no item but one order — by its number, or by its state when only one order is in that
    state — of a single item, is about that item."""
    out = []
    for pos, kind in kinds_at:
        begin, end = _sentence_start(lower, pos), _sentence_end(lower, pos)
        if kind != "change" or any(begin <= s < end for s, _, _ in found):
            continue
        sentence = lower[begin:end]
        by_state = [o for o in orders if re.search(rf"\b{re.escape(fold(o.status))}\b", sentence)]
        by_id = [o for o in orders if fold(o.id).lstrip("#") in sentence]
        meant = by_id or by_state
        if len(meant) == 1 and len(meant[0].lines) == 1:
            out.append(Mention(meant[0], meant[0].lines[0], kind, lower[pos:end]))
    first: dict[str, Mention] = {}
    for m in out:
        first.setdefault(m.line.item_id, m)  # what the first request says of it
    return list(first.values())


def _orders_whole(lower, kinds_at, orders, found, named) -> list[Mention]:
    """ "Cancel order #W123", "return order 1001": an order named in a sentence that asks to
    cancel or return and names none of its items is meant whole (whatever its state: the
    rules say what is allowed)."""
    out = []
    for order in [o for o in orders if o.id in named]:
        for m in re.finditer(rf"{re.escape(fold(order.id).lstrip('#'))}\b", lower):
            begin, end = _sentence_start(lower, m.start()), _sentence_end(lower, m.end())
            kinds = [k for pos, k in kinds_at if begin <= pos < end and k in ("cancel", "return")]
            items_here = [s for s, _, _ in found if begin <= s < end]
            if kinds and not items_here:
                out += [Mention(order, line, kinds[0], "") for line in order.lines]
    return out


def _everything(lower, kinds_at, orders, found, excepted, named, states_for) -> list[Mention]:
    """ "return everything", "cancel all my orders", "everything except the <product>",
    "cancel the whole order" (the orders of the items named in this sentence or the one
    before)."""
    out = []
    for m in [*ALL.finditer(lower), *WHOLE.finditer(lower)]:
        kind = _kind_for(kinds_at, lower, m.start())
        if kind not in ("cancel", "return"):
            continue
        begin, end = _sentence_start(lower, m.start()), _sentence_end(lower, m.start())
        excepting = EXCEPT.search(lower, begin, end)
        upto = excepting.start() if excepting else end
        if ALL.match(lower, m.start()) and any(
            begin <= s < upto and _kind_for(kinds_at, lower, s) == kind for s, _, _ in found
        ):
            continue  # "all the items I want to return: the skateboard, …": those named
        if WHOLE.match(lower, m.start()):
            begin = _sentence_start(lower, max(_sentence_start(lower, m.start()) - 2, 0))
            said = {name for s, _, name in found if begin <= s < m.start()}
            pool = [o for o in orders if any(is_line(line, n) for line in o.lines for n in said)]
            if not said and len(orders) == 1:
                pool = orders  # the only order in question
        else:
            pool = [o for o in orders if o.id in named] or orders
        for order in [o for o in pool if _fits(o, kind, states_for)]:
            if excepted and not any(line.item_id in excepted for line in order.lines):
                continue  # "everything except the <product>": the order that holds it
            out += [Mention(order, line, kind, "") for line in order.lines]
    return out


# ---- the variant meant ---------------------------------------------------------------------
def variant_meant(
    line: OrderLine, said: str, variants: list[Variant], named_ids: set[str] | None = None
) -> Variant | None:
    """The available variant of the line's product, other than its own, that the customer's
    words about it point to: its item id written out, values they name, "bigger"/"less
    bright" on a measured or graded option, "1000 more pieces", a ranking of choices, the
    cheapest or the dearest. None when their words point to none."""
    candidates = [v for v in variants if v.available and v.item_id != line.item_id]
    kept = _kept_options(said, line)  # "the same material", "keep the capacity"
    candidates = [v for v in candidates if all(v.options.get(k) == line.options[k] for k in kept)]
    if not candidates:
        return None
    by_id = [v for v in candidates if v.item_id in (named_ids or set())]
    if len(by_id) == 1:
        return by_id[0]
    wish = _Wish.read(said, line, candidates)
    best = max(candidates, key=wish.score)
    if wish.score(best)[0] <= 0 and not (wish.cheapest or wish.priciest):
        return None  # nothing they said picks a variant: ask which option
    return best


@dataclass
class _Wish:
    """What the customer's words about an item ask of its new variant."""

    line: OrderLine
    terms: set[str]  # the words said, as terms (a ranking's words left out)
    text: str  # the words said, space-separated, padded
    more: bool
    less: bool
    cheapest: bool
    priciest: bool
    most: bool
    ranked: list[set[str]]  # "prefer battery > USB > AC": each choice's words
    extremes: dict[str, tuple[float, float]]  # "the maximum zoom": per option, low and high
    targets: dict[str, float]  # "1000 more pieces": per option, the amount wanted
    graded: dict[str, int]  # "the easiest one": per graded option, the level wanted

    @classmethod
    def read(cls, said: str, line: OrderLine, candidates: list[Variant]) -> _Wish:
        ranking = RANKING.search(said) or PREFER_OVER.search(said)
        unranked = said[: ranking.start()] + said[ranking.end() :] if ranking else said
        words = [w.strip(".") for w in re.findall(r"[\w.]+", unranked)]  # "2.5", not "black."
        terms = {term(w) for w in words if w}
        most, least = bool(MOST.search(said)), bool(LEAST.search(said))
        extremes = {}
        for key in {k for c in candidates for k in c.options}:
            if (most or least) and all(term(w) in terms for w in re.findall(r"\w+", fold(key))):
                found = [a for c in candidates if (a := _measure(c.options.get(key))) is not None]
                if found:
                    extremes[key] = (min(found), max(found))
        return cls(
            line=line,
            terms=terms,
            text=" " + " ".join(words) + " ",
            more=bool(MORE.search(said)),
            less=bool(LESS.search(said)),
            cheapest=bool(CHEAPEST.search(said)),
            priciest=bool(PRICIEST.search(said)),
            most=most,
            ranked=_ranked(said),
            extremes=extremes,
            targets=_targets(said, line),
            graded=_graded(said, candidates),
        )

    def share(self, value: str) -> float:
        """How much of a value the customer's words hold ("Google Home" for "Google
        Assistant": half)."""
        words = [w for w in re.findall(r"[\w.]+", fold(value)) if len(w) > 1 or w.isdigit()]
        if not words:
            return 0.0
        if f" {' '.join(words)} " in self.text:
            return 1.0
        return sum(term(w) in self.terms for w in words) / len(words)

    def preferred(self, v: Variant) -> float:
        """How high the variant's best value stands in the customer's ranking (1 = first)."""
        for rank, words in enumerate(self.ranked):
            if any(_held(value, words) for value in v.options.values()):
                return 1 - rank / len(self.ranked)
        return 0.0

    def score(self, v: Variant) -> tuple:
        named = measured = 0.0
        kept = changed = 0
        for key, (low, high) in self.extremes.items():
            amount = _measure(v.options.get(key))
            if amount is not None and amount == (high if self.most else low):
                measured += 1.5
        for key, target in self.targets.items():
            if _amount(v.options.get(key)) == target:
                measured += 1.5
        for key, level in self.graded.items():
            if _level(v.options.get(key)) == level:
                measured += 1
        for key, value in v.options.items():
            old = self.line.options.get(key)
            if value == old:
                kept += 1
                continue
            share = self.share(value)
            if share > 0:
                named += share
            else:
                changed += 1
            a, b = _amount(old), _amount(value)
            if a is None or b is None:
                a, b = _level(old), _level(value)
            if a is not None and b is not None and ((self.more and b > a) or (self.less and b < a)):
                measured += 1 - min(abs(b - a) / max(abs(a), 1), 1) / 2  # nearer first
        named += self.preferred(v)
        if self.cheapest or self.priciest:  # the price decides before the options
            return (named + measured, v.price if self.priciest else -v.price, -changed, kept)
        return (named + measured, -changed, kept, 0)


def _graded(said: str, candidates: list[Variant]) -> dict[str, int]:
    """ "The easiest one", "the hardest": a superlative of a word on the ordered scale,
    for every option whose values stand on it — the lowest (or highest) level offered."""
    wanted = None
    for bases in superlatives(said):
        for base in bases:
            level = _level(base)
            if level in (0, len(SCALE) - 1):
                wanted = level
    if wanted is None:
        return {}
    out = {}
    for key in {k for c in candidates for k in c.options}:
        levels = [lv for c in candidates if (lv := _level(c.options.get(key))) is not None]
        if levels:
            out[key] = min(levels) if wanted == 0 else max(levels)
    return out


def _targets(said: str, line: OrderLine) -> dict[str, float]:
    """ "1000 more pieces", "with 500 pieces less": per option of the line whose key the
    words name, the line's own amount plus or minus the number."""
    out = {}
    for m in AMOUNT_DIFFERENCE.finditer(said):
        a, b = m.group("a"), m.group("b")
        way, word = (a, b) if MORE.fullmatch(a) or LESS.fullmatch(a) else (b, a)
        if not (MORE.fullmatch(way) or LESS.fullmatch(way)):
            continue
        number, word = float(m.group("n")), term(word)
        sign = -1 if LESS.fullmatch(way) else 1
        for key, value in line.options.items():
            old = _amount(value)
            if old is not None and word in {term(w) for w in re.findall(r"\w+", fold(key))}:
                out[key] = old + sign * number
    return out


RANKING = re.compile(r"[\w][\w .-]*(?:\s*>\s*[\w][\w .-]*)+")
PREFER_OVER = _P.pattern("prefer_over")
AMOUNT_DIFFERENCE = re.compile(r"(?<![\w.])(?P<n>\d+(?:\.\d+)?)\s+(?P<a>\w+)\s+(?P<b>\w+)")


def _ranked(said: str) -> list[set[str]]:
    """A ranking the customer writes out, first choice first ("battery > USB > AC", "I
    prefer animals over art"): the words of each choice."""
    if m := RANKING.search(said):
        parts = m.group(0).split(">")
    elif m := PREFER_OVER.search(said):
        parts = [m.group("first"), m.group("second")]
    else:
        return []
    return [_terms(part) for part in parts]


def _kept_options(said: str, line: OrderLine) -> set[str]:
    """The line's options the customer's words keep: named just after "the same" or "keep"
    ("with the same material and color")."""
    out = set()
    for m in KEEP.finditer(said):
        stop = KEPT_UNTIL.search(said, m.end())
        window = set(re.findall(r"\w+", said[m.end() : stop.start() if stop else m.end() + 40]))
        for key in line.options:
            words = [term(w) for w in re.findall(r"\w+", fold(key))]
            if words and words[0] in {term(x) for x in window}:  # "the same difficulty"
                out.add(key)
    return out


SCALE = [_P.pattern("scale_low"), _P.pattern("scale_mid"), _P.pattern("scale_high")]


def _level(value: str | None) -> int | None:
    """A value's level on an ordered scale: a size code (XS < S < M < L …, the language
    layer's sizes in their order), or "low" 0, "medium" 1, "high" 2."""
    if not value:
        return None
    codes = list(dict.fromkeys(language().sizes.values()))
    if value.strip().upper() in codes:
        return codes.index(value.strip().upper())
    levels = [n for n, pattern in enumerate(SCALE) if pattern.search(fold(value))]
    return levels[0] if len(levels) == 1 else None


def _measure(value: str | None) -> float | None:
    """A value as a quantity ("10x", "500ml") or a level on a scale ("low" < "high")."""
    amount = _amount(value)
    return amount if amount is not None else _level(value)


def _amount(value: str | None) -> float | None:
    if not value:
        return None
    found = find_quantities(fold(value))
    if found:
        return found[0].value
    m = re.match(r"\s*(\d+(?:\.\d+)?)", value)
    return float(m.group(1)) if m else None


def payment_meant(text: str, customer: Customer, fallback: str | None) -> str | None:
    """The customer's own payment method their words name — its source ("to my PayPal", "a
    gift card", its initials "GC"), its brand ("the Visa card") or its last four digits —
    when they name one, or several of one source; else `fallback` (the order's own)."""
    lower = fold(text)

    def said(name: str) -> bool:
        return bool(name) and re.search(rf"\b{re.escape(fold(name))}\b", lower) is not None

    named = []
    for m in customer.payment_methods:
        words = m.source.replace("_", " ").split()
        initials = "".join(w[0] for w in words) if len(words) > 1 else ""
        if any(said(n) for n in (m.source, " ".join(words), initials, m.brand, m.last_four)):
            named.append(m)
    by_detail = [m for m in named if said(m.brand) or said(m.last_four)]
    if len(by_detail) == 1:
        return by_detail[0].id
    if named and len({m.source for m in named}) == 1:
        return named[0].id
    return fallback


def profile_address_meant(text: str, as_target: bool = False) -> bool:
    """Whether the text speaks of the customer's own profile address; `as_target`: as the
    one to change ("change my default address to …")."""
    if as_target:
        return any(
            CHANGED_TO.match(fold(text), m.end()) for m in PROFILE_ADDRESS.finditer(fold(text))
        )
    return bool(PROFILE_ADDRESS.search(fold(text)))
