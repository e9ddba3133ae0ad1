"""`aisle eval simulate`: a simulated shopper generated from the catalog itself.

Each run picks target products; a shopper takes its target's facts as hidden needs (its
kind, then some of its values — brand, colour, size, origin, whatever this catalog lists —
its department when the catalog files kinds under audiences, and a price band), and talks
to the assistant the way shoppers do:

- it opens vaguely (the kind, sometimes one more need);
- it answers a clarifying question truthfully, from its target (and counts a question
  about something it had already said);
- when no product meeting all its needs is shown, it says one more of them; with none
  left, it says them all again;
- it never accepts a product that breaks a need: success is a shown product that meets
  every need (the target or another such product), checked by the same rule the search
  filters with (evals/criteria.py);
- on success it takes the product by its position ("I'll take the second one"), naming
  the options of the variant it wants or answering the cart's questions about them, and
  the cart is checked;
- it stops at success or after `max_turns` turns.

Messages come from deterministic templates (evals/suites/shopper.toml) drawn with a seed; a
`rewrite` callable (an LLM, `--paraphrase`) may reword them, kept only if every value
survives. Each target runs `runs` times with different draws (pass^k: the share of targets
found in all k runs, after τ-bench). Replies are checked for facts that neither the
products shown nor the shopper's own words state."""

from __future__ import annotations

import random
import statistics
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, Field

from assistant.agent.policy_facts import check_facts
from assistant.records import Reply
from assistant.wording import item_price
from base.language.general import language
from base.language.money import format_amount
from base.language.text import singular, term
from ranking.synthetic import attribute_options, audience_of, kind_of
from retrieval.facets import value_matches
from retrieval.lexicon import Lexicon
from retrieval.schema import Product
from retrieval.text_embedder import product_text

from ..criteria import Criteria
from ..report import SuiteResult, WorstCase

PHRASES = Path(__file__).with_name("shopper.toml")


class Need(BaseModel):
    slot: str  # "kind", "category", "price" or the facet key
    value: str  # as the shopper says it (a basic colour for a colour facet)
    criterion: str  # in the filter language of `aisle search`
    # the kind is also met by a product whose title names it ("tank" under "Bras & Tanks")
    or_title: str = ""
    phrase: str = ""  # what the shopper says for it (filled per run)


class Goal(BaseModel):
    target: str  # product id
    title: str
    kind_word: str  # the kind as the shopper names it
    kind_noun: bool = False  # a noun from titles (said singular or plural), not a category's word
    needs: list[Need]  # the kind first


class Turn(BaseModel):
    said: str
    shown: list[str] = Field(default_factory=list)  # "id title"
    violating: list[str] = Field(default_factory=list)  # shown, breaking a need already said
    asked: str = ""  # the facet a clarifying question asked about
    reasked: bool = False  # …that the shopper had already stated
    unsupported: list[str] = Field(default_factory=list)  # facts in the reply nobody stated
    met: list[int] = Field(default_factory=list)  # positions meeting every need
    ms: float = 0.0


class Episode(BaseModel):
    target: str
    title: str
    run: int
    needs: list[str]  # criteria
    turns: list[Turn]
    success_turn: int | None = None  # 1-based turn whose reply showed a product meeting all
    carted: bool | None = None  # the product taken by position reached the cart (on success)
    take: str = ""  # what the shopper said to take it, and the reply


class Responder(Protocol):
    """What the shopper talks to: `assistant.pipeline.Assistant`, or a test's stand-in."""

    def respond(self, session: str, message: str) -> Reply: ...


class SimulationReport(BaseModel):
    targets: int
    runs: int
    max_turns: int
    episodes: list[Episode]
    metrics: dict[str, float]
    success_by_turn: list[float]  # share of episodes successful by turn 1, 2, …
    latencies_ms: list[float]


def phrases() -> dict[str, list[str]]:
    return tomllib.loads(PHRASES.read_text(encoding="utf-8"))


def _plural(word: str) -> str:
    last = word.split()[-1]
    if last.endswith("s"):
        return word
    if last.endswith("y") and last[-2:-1] not in "aeiou":
        return word[:-1] + "ies"
    return word + ("es" if last.endswith(("ch", "sh", "x")) else "s")


def _price_band(price: float) -> float:
    """A round bound above the price, as a shopper's budget ("under 60" for 57.00)."""
    step = 10.0 ** max(0, len(str(int(price))) - 1)
    step = step / 2 if step >= 10 else step
    bound = (int(price // step) + 1) * step
    return float(bound)


def meets(needs: list[Need], product: Product, keys: list[str]) -> bool:
    """Every need at once: the kind (its category, or its title word), and the rest together
    (one variant must carry every option value asked for)."""
    kinds = [n for n in needs if n.slot == "kind"]
    rest = Criteria([n.criterion for n in needs if n.slot != "kind"], keys)
    for n in kinds:
        by_title = n.or_title and Criteria([f"title~{n.or_title}"]).satisfied_by(product)
        if not (by_title or Criteria([n.criterion], keys).satisfied_by(product)):
            return False
    return rest.satisfied_by(product)


def make_goal(
    product: Product, lexicon: Lexicon, rng: random.Random, extra: int = 2
) -> Goal | None:
    """The target's facts as needs: its kind, up to `extra` of its values, its audience
    (when its top category is one), and a price band half of the time. Only needs the
    target meets together (one of its variants has every option value) are kept."""
    kind = kind_of(product)
    if kind is None:
        return None
    spec, word = kind
    category = spec.split(":", 1)[1]
    noun = singular(word) if " " not in word else ""
    needs = [Need(slot="kind", value=word, criterion=f"category={category}", or_title=noun)]
    values = attribute_options(product, lexicon, term(word.split()[-1]))
    for key, value in rng.sample(values, min(len(values), rng.choice([1, extra, extra + 1]))):
        if any(n.slot == key for n in needs):
            continue
        needs.append(Need(slot=key, value=value, criterion=f"{key}={value}"))
    if (who := audience_of(product)) and rng.random() < 0.5:
        needs.append(Need(slot="category", value=who, criterion=f"category={who}"))
    if product.price and rng.random() < 0.5:
        bound = _price_band(product.price)
        needs.append(Need(slot="price", value=f"{bound:g}", criterion=f"price<{bound:g}"))
    keys = [f.key for f in lexicon.facets.values()]
    while len(needs) > 1 and not meets(needs, product, keys):
        needs.pop()  # values of different variants: the target meets them only apart
    if not meets(needs[:1], product, keys):
        return None
    return Goal(
        target=product.id,
        title=product.title,
        kind_word=word,
        kind_noun=spec.startswith("kind:"),
        needs=needs,
    )


def pick_goals(products: list[Product], lexicon: Lexicon, n: int, seed: int) -> list[Goal]:
    """`n` targets across as many kinds as there are: one per kind in turn, drawn by seed."""
    rng = random.Random(seed)
    pool = [p for p in products if p.visible and p.available]
    rng.shuffle(pool)
    by_kind: dict[str, list[Product]] = {}
    for p in pool:
        if k := kind_of(p):
            by_kind.setdefault(k[0], []).append(p)
    goals: list[Goal] = []
    while len(goals) < n and any(by_kind.values()):
        for kind in sorted(by_kind):
            if (
                by_kind[kind]
                and len(goals) < n
                and (goal := make_goal(by_kind[kind].pop(), lexicon, rng))
            ):
                goals.append(goal)
    return goals


class Shopper:
    """One run of one goal: decides what to say next from what the assistant showed."""

    def __init__(
        self,
        goal: Goal,
        lexicon: Lexicon,
        rng: random.Random,
        rewrite: Callable[[str], str | None] | None = None,
    ):
        self.goal, self.lexicon, self.rng, self.rewrite = goal, lexicon, rng, rewrite
        self.templates = phrases()
        self.keys = [f.key for f in lexicon.facets.values()]
        self.needs = list(goal.needs)
        self.stated: list[Need] = []
        self.variant = None  # the variant it takes, once it takes one
        rest = list(goal.needs[1:])
        rng.shuffle(rest)  # the order needs come up in differs per run
        self.pending = rest

    def _say(self, template: str, **values: str) -> str:
        return self.rng.choice(self.templates[template]).format(**values)

    def _phrase(self, need: Need) -> str:
        if need.slot == "price":
            price = format_amount(float(need.value), self.lexicon.currency)
            return self._say("price", price=price)
        if need.slot == "category":
            cat = self.lexicon.categories.get(need.value.casefold())
            return self._say("category", value=(cat.display if cat else need.value))
        facet = self.lexicon.facet(need.slot)
        if facet is not None and facet.color:
            return self._say("color", value=need.value)
        return self._say("value", value=need.value, key=need.slot.replace("_", " "))

    def _kind(self) -> str:
        word = self.goal.kind_word
        if not self.goal.kind_noun:
            return word  # a category's own word ("canned", "oils"), as the catalog writes it
        return _plural(word) if self.rng.random() < 0.6 else singular(word)

    def _out(self, text: str, needs: list[Need]) -> str:
        if self.rewrite is None:
            return text
        try:
            new = self.rewrite(text)
        except Exception:  # noqa: BLE001 - a failed paraphrase keeps the template
            return text
        if not new:
            return text
        low = new.casefold()
        kept = all(
            (format_amount(float(n.value), self.lexicon.currency) if n.slot == "price" else n.value)
            .casefold()
            .split()[0]
            in low
            for n in needs
        )
        return " ".join(new.split())[:200] if kept else text

    def opening(self) -> str:
        self.stated = [self.goal.needs[0]]
        if self.pending and self.rng.random() < 0.3:
            need = self.pending.pop(0)
            self.stated.append(need)
            text = self._say("open_with", kind=self._kind(), need=self._phrase(need))
            return self._out(text, [self.goal.needs[0], need])
        return self._out(self._say("open", kind=self._kind()), [self.goal.needs[0]])

    def meets_stated(self, product: Product) -> bool:
        return meets(self.stated, product, self.keys)

    def meets_all(self, product: Product) -> bool:
        return meets(self.needs, product, self.keys)

    def answer(self, asked: str, product: Product) -> str:
        """A truthful answer about its target; what it says becomes a stated need."""
        if asked == "category":
            for need in self.pending:
                if need.slot == "category":
                    self.pending.remove(need)
                    self.stated.append(need)
                    return self._out(self._phrase(need), [need])
            top = product.category.replace(">", "/").split("/")[0].strip()
            if not top:
                return self._say("no_preference")
            need = Need(slot="category", value=top, criterion=f"category={top}")
        else:
            for need in self.pending:
                if need.slot.casefold() == asked.casefold():
                    self.pending.remove(need)
                    self.stated.append(need)
                    return self._out(self._phrase(need), [need])
            values = product.values(asked)
            if not values:
                return self._say("no_preference")
            value = values[0] if len(values) == 1 else self.rng.choice(values)
            need = Need(slot=asked, value=value, criterion=f"{asked}={value}")
        if not meets([*self.stated, need], product, self.keys):
            return self._say("no_preference")  # the target has it only apart from the rest
        self.stated.append(need)
        self.needs.append(need)
        return self._out(self._phrase(need), [need])

    def next_need(self) -> str:
        if self.pending:
            need = self.pending.pop(0)
            self.stated.append(need)
            return self._out(self._phrase(need), [need])
        parts = [self._kind(), *(self._phrase(n) for n in self.stated[1:])]
        return self._out(self._say("restate", needs=" ".join(parts)), self.stated)

    def take(self, position: int, product: Product) -> str:
        """Takes the product by position; when it comes in several variants, picks one that
        meets its needs and, half the time, names its options at once ("in Purple, size
        M"), else waits to be asked (`option`)."""
        ordinal = next(w for w, n in language().ordinals.items() if n == position and w.isalpha())
        text = self._say("take", ordinal=ordinal)
        variants = [v for v in product.purchasable_variants() if v.available]
        if len(variants) < 2:
            return text
        fitting = [
            v
            for v in variants
            if all(
                value_matches(n.slot, v.option(n.slot), n.value)
                for n in self.goal.needs
                if v.option(n.slot) is not None
            )
        ] or variants
        self.variant = self.rng.choice(fitting)
        if self.rng.random() < 0.5:
            return text
        said = [self._option(k, v) for k, v in self.variant.options.items()]
        return f"{text} in {', '.join(said)}" if said else text

    def _option(self, key: str, value: str) -> str:
        facet = self.lexicon.facet(key)
        return value if facet is not None and facet.color else f"{key} {value}"

    def option(self, key: str) -> str:
        """The answer to the cart's "which <key> would you like?": its variant's value."""
        value = self.variant.option(key) if self.variant is not None else None
        return self._option(key, value) if value else self._say("no_preference")

    def stated_slots(self) -> set[str]:
        return {n.slot.casefold() for n in self.stated if n.slot != "kind"}


def run_episode(
    assistant: Responder,
    goal: Goal,
    target: Product,
    lexicon: Lexicon,
    seed: int,
    run: int,
    max_turns: int = 5,
    rewrite: Callable[[str], str | None] | None = None,
    session_prefix: str = "sim",
) -> Episode:
    rng = random.Random(f"{seed}/{run}/{goal.target}")
    shopper = Shopper(goal, lexicon, rng, rewrite)
    session = f"{session_prefix}-{seed}-{run}-{goal.target}-{time.monotonic_ns()}"
    episode = Episode(
        target=goal.target,
        title=goal.title,
        run=run,
        needs=[n.criterion for n in goal.needs],
        turns=[],
    )
    said: list[str] = []
    message = shopper.opening()
    for number in range(1, max_turns + 1):
        slots = shopper.stated_slots()
        said.append(message)
        t0 = time.perf_counter()
        reply = assistant.respond(session, message)
        turn = Turn(said=message, ms=round((time.perf_counter() - t0) * 1000, 1))
        products = [i.product for i in reply.products]
        turn.shown = [f"{p.id} {p.title}" for p in products]
        turn.violating = [f"{p.id} {p.title}" for p in products if not shopper.meets_stated(p)]
        turn.met = [n for n, p in enumerate(products, 1) if shopper.meets_all(p)]
        state = reply.state
        if state.asked and state.asked_at == state.turns and reply.intent == "search":
            turn.asked = state.asked[-1]
        turn.reasked = bool(turn.asked) and turn.asked.casefold() in slots
        sources = [product_text(p) for p in products]
        sources += [
            format_amount(x, p.currency)
            for i in reply.products
            if (p := i.product) and (x := item_price(i)) is not None
        ]
        if turn.asked and (facet := lexicon.facet(turn.asked)) is not None:
            sources += list(facet.values)  # a question offers the catalog's choices
        turn.unsupported = [p.fact for p in check_facts(reply.text, sources + said)]
        episode.turns.append(turn)
        if turn.met:
            episode.success_turn = number
            position = turn.met[0]
            message = shopper.take(position, products[position - 1])
            reply = assistant.respond(session, message)
            for _ in range(3):  # the options it is asked for, one at a time
                if (q := reply.state.cart_question) is None:
                    break
                message = shopper.option(q.key)
                reply = assistant.respond(session, message)
            wanted = products[position - 1].id
            episode.carted = any(line.product_id == wanted for line in reply.state.cart)
            episode.take = f"{message!r} -> {reply.text[:200]!r}"
            break
        if number == max_turns:
            break
        message = shopper.answer(turn.asked, target) if turn.asked else shopper.next_need()
    return episode


def simulate(
    assistant: Responder,
    products: list[Product],
    lexicon: Lexicon,
    targets: int = 30,
    runs: int = 2,
    max_turns: int = 5,
    seed: int = 0,
    rewrite: Callable[[str], str | None] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SimulationReport:
    goals = pick_goals(products, lexicon, targets, seed)
    by_id = {p.id: p for p in products}
    episodes = []
    total = len(goals) * runs
    for g in goals:
        for r in range(runs):
            episodes.append(
                run_episode(assistant, g, by_id[g.target], lexicon, seed, r, max_turns, rewrite)
            )
            if progress:
                progress(len(episodes), total)
    return summarise(episodes, len(goals), runs, max_turns)


def summarise(episodes: list[Episode], targets: int, runs: int, max_turns: int) -> SimulationReport:
    n = max(len(episodes), 1)
    turns = [t for e in episodes for t in e.turns]
    won = [e for e in episodes if e.success_turn is not None]
    by_target: dict[str, list[bool]] = {}
    for e in episodes:
        by_target.setdefault(e.target, []).append(e.success_turn is not None)
    latencies = sorted(t.ms for t in turns)
    asked = [t for t in turns if t.asked]
    metrics = {
        "success@3": sum(e.success_turn is not None and e.success_turn <= 3 for e in episodes) / n,
        "success@5": sum(e.success_turn is not None and e.success_turn <= 5 for e in episodes) / n,
        "success": len(won) / n,
        f"pass^{runs}": sum(all(v) for v in by_target.values()) / max(len(by_target), 1),
        "turns to success": statistics.mean(e.success_turn for e in won) if won else 0.0,
        # per conversation, then averaged: the unit runs are compared by (evals/report.py)
        "violations per turn": statistics.mean(
            sum(len(t.violating) for t in e.turns) / max(len(e.turns), 1) for e in episodes
        )
        if episodes
        else 0.0,
        "turns with 0 violations": sum(not t.violating for t in turns) / max(len(turns), 1),
        "questions already answered": sum(t.reasked for t in asked) / max(len(turns), 1),
        "replies with unsupported facts": sum(bool(t.unsupported) for t in turns)
        / max(len(turns), 1),
        "carted the product taken": sum(bool(e.carted) for e in won) / max(len(won), 1),
        "turn p50 ms": latencies[len(latencies) // 2] if latencies else 0.0,
        "turn p95 ms": latencies[int(0.95 * (len(latencies) - 1))] if latencies else 0.0,
    }
    by_turn = [
        sum(e.success_turn is not None and e.success_turn <= k for e in episodes) / n
        for k in range(1, max_turns + 1)
    ]
    return SimulationReport(
        targets=targets,
        runs=runs,
        max_turns=max_turns,
        episodes=episodes,
        metrics={k: round(float(v), 4) for k, v in metrics.items()},
        success_by_turn=[round(x, 4) for x in by_turn],
        latencies_ms=latencies,
    )


def suite_result(
    report: SimulationReport, config: str, set_name: str, seconds: float
) -> SuiteResult:
    def case(e: Episode) -> str:
        return f"{e.target} run {e.run}"

    per_case = {
        "success@3": {
            case(e): float(e.success_turn is not None and e.success_turn <= 3)
            for e in report.episodes
        },
        "success@5": {
            case(e): float(e.success_turn is not None and e.success_turn <= 5)
            for e in report.episodes
        },
        "success": {case(e): float(e.success_turn is not None) for e in report.episodes},
        "violations per turn": {
            case(e): sum(len(t.violating) for t in e.turns) / max(len(e.turns), 1)
            for e in report.episodes
        },
    }
    failed = sorted(
        report.episodes,
        key=lambda e: (e.success_turn is not None, -sum(len(t.violating) for t in e.turns)),
    )
    worst = [
        WorstCase(
            id=case(e),
            asked=" → ".join(t.said for t in e.turns),
            shown=e.turns[-1].shown if e.turns else [],
            expected=f"{e.title}: {', '.join(e.needs)}",
            note=(f"found at turn {e.success_turn}" if e.success_turn else "not found")
            + (
                f"; {sum(len(t.violating) for t in e.turns)} shown product(s) broke a need said"
                if any(t.violating for t in e.turns)
                else ""
            ),
        )
        for e in failed[:10]
        if e.success_turn is None or any(t.violating for t in e.turns)
    ]
    return SuiteResult(
        suite="simulate",
        config=config,
        set=set_name,
        headline=report.metrics,
        per_case=per_case,
        latencies_ms=report.latencies_ms,
        success_by_turn=report.success_by_turn,
        worst=worst,
        seconds=round(seconds, 1),
        notes=[
            f"{report.targets} targets × {report.runs} runs, at most {report.max_turns} turns; "
            "success: a product meeting every hidden need was shown"
        ],
        detail=report.model_dump(exclude={"latencies_ms"}),
    )
