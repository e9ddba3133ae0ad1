"""`aisle eval orders`: the service console's proposed actions on τ²-bench retail tasks.

Each task's customer speaks first, in the first person, with what the task says they know
and want (`known_info`, `reason_for_call`); the console identifies the customer and their
orders and proposes actions. Those are compared with the task's expected write actions
(name and every argument): customer identified, order identified, action name right,
action exact. A proposal the rules forbid for the order is counted when it is offered as
ready to confirm (it never should be).

Written for τ²-bench's task shape (`user_scenario.instructions`, `evaluation_criteria.
actions`); the tasks file, the orders and the rules are the shop's own."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from orders.propose import VariantChooser, service_case
from orders.rules import ServiceRules
from orders.store import OrderStore

from ..report import SuiteResult, WorstCase

READS = ("get_", "find_", "calculate", "list_")  # the benchmark's look-ups, not actions


class TaskResult(BaseModel):
    id: str
    message: str
    identity_given: bool
    customer_right: bool
    expected: list[dict]
    proposed: list[dict]
    orders_right: int
    names_right: int
    exact: int
    forbidden_ready: int
    llm_picked: int = 0  # proposals whose new variant the LLM picked
    llm_picked_exact: int = 0  # of those, the ones the task expects
    ms: float


class OrdersReport(BaseModel):
    tasks: int
    actions: int
    customer_identified: float  # of tasks whose message holds an identity
    order_identified: float  # of expected actions on an order
    action_name: float  # of expected actions
    action_exact: float  # of expected actions
    tasks_exact: float  # tasks whose every expected action was proposed exactly
    forbidden_ready: int  # proposals ready to confirm that the rules forbid
    llm_picked: int = 0  # proposals whose new variant the LLM picked (when it is on)
    llm_picked_exact: int = 0  # of those, exactly an expected action
    latency_p50_ms: float
    latency_p95_ms: float
    results: list[TaskResult]


def first_person(text: str) -> str:
    """A task's instructions to its simulated customer ("You are …, you want …") as the
    customer would write them ("I am …, I want …")."""
    rules = [
        (r"\byou are\b", "I am"),
        (r"\byou're\b", "I'm"),
        (r"\byou've\b", "I've"),
        (r"\byou'd\b", "I'd"),
        (r"\byou'll\b", "I'll"),
        (r"\byourself\b", "myself"),
        (r"\byours\b", "mine"),
        (r"\byour\b", "my"),
        (r"(^|[.!?;,]\s*|\b(?:and|but|if|that|so|because|when|then|as|since|or)\s+)you\b", r"\1I"),
        (r"\byou\b", "me"),
    ]
    for pattern, repl in rules:
        text = re.sub(pattern, repl, text, flags=re.I)
    return re.sub(r"\bi\b", "I", text)


def task_message(task: dict) -> str:
    i = task["user_scenario"]["instructions"]
    return first_person(f"{i.get('known_info') or ''} {i.get('reason_for_call') or ''}".strip())


def _key(action: dict) -> tuple:
    """An action compared as the store would apply it: item lists as sets, an exchange's
    items paired with their new items."""
    args = dict(action["arguments"])
    if "new_item_ids" in args:
        pairs = sorted(zip(args.pop("item_ids", []), args.pop("new_item_ids"), strict=False))
        args["pairs"] = pairs
    elif "item_ids" in args:
        args["item_ids"] = sorted(args["item_ids"])
    args.pop("summary", None)  # a hand-over's summary is free text
    return action["name"], json.dumps(args, sort_keys=True)


def evaluate(
    store: OrderStore, rules: ServiceRules, tasks_file: Path, choose: VariantChooser | None = None
) -> OrdersReport:
    """`choose`: the LLM's pick of a new variant where the rules read none."""
    tasks = json.loads(Path(tasks_file).read_text(encoding="utf-8"))
    results = []
    for task in tasks:
        message = task_message(task)
        expected = [
            a for a in task["evaluation_criteria"]["actions"] if not a["name"].startswith(READS)
        ]
        t0 = time.perf_counter()
        case = service_case(store, rules, [message], choose)
        ms = (time.perf_counter() - t0) * 1000
        proposed = [{"name": p.name, "arguments": p.arguments} for p in case.proposals]
        by_llm = [
            {"name": p.name, "arguments": p.arguments}
            for p in case.proposals
            if p.proposed_by == "llm"
        ]
        want_customer = _expected_customer(store, task)
        keys = {_key(p) for p in proposed}
        wanted = {_key(a) for a in expected}
        names = {(p["name"], p["arguments"].get("order_id")) for p in proposed}
        results.append(
            TaskResult(
                id=str(task["id"]),
                message=message,
                identity_given=_holds_identity(store, message, want_customer),
                customer_right=bool(case.customer and case.customer.id == want_customer),
                expected=expected,
                proposed=proposed,
                orders_right=sum(
                    a["arguments"].get("order_id") in case.focus
                    for a in expected
                    if "order_id" in a["arguments"]
                ),
                names_right=sum(
                    (a["name"], a["arguments"].get("order_id")) in names for a in expected
                ),
                exact=sum(_key(a) in keys for a in expected),
                forbidden_ready=sum(1 for p in case.proposals if p.allowed and p.why_not),
                llm_picked=len(by_llm),
                llm_picked_exact=sum(_key(p) in wanted for p in by_llm),
                ms=ms,
            )
        )
    with_identity = [r for r in results if r.identity_given]
    on_orders = sum(1 for r in results for a in r.expected if "order_id" in a["arguments"])
    n_actions = sum(len(r.expected) for r in results)
    ms = [r.ms for r in results]
    return OrdersReport(
        tasks=len(results),
        actions=n_actions,
        customer_identified=_share(
            sum(r.customer_right for r in with_identity), len(with_identity)
        ),
        order_identified=_share(sum(r.orders_right for r in results), on_orders),
        action_name=_share(sum(r.names_right for r in results), n_actions),
        action_exact=_share(sum(r.exact for r in results), n_actions),
        tasks_exact=_share(sum(r.exact == len(r.expected) for r in results), len(results)),
        forbidden_ready=sum(r.forbidden_ready for r in results),
        llm_picked=sum(r.llm_picked for r in results),
        llm_picked_exact=sum(r.llm_picked_exact for r in results),
        latency_p50_ms=round(float(np.percentile(ms, 50)), 1) if ms else 0.0,
        latency_p95_ms=round(float(np.percentile(ms, 95)), 1) if ms else 0.0,
        results=results,
    )


def _share(n: int, total: int) -> float:
    return round(n / total, 4) if total else 1.0


def _holds_identity(store: OrderStore, message: str, customer_id: str | None) -> bool:
    """Whether the message says who the expected customer is, as the store knows them: their
    e-mail address, their customer id, or their first and last name with their zip code."""
    customer = store.customer(customer_id) if customer_id else None
    if customer is None:
        return False
    said = message.casefold()
    words = set(re.findall(r"[\w'-]+", said))
    named = {customer.first_name.casefold(), customer.last_name.casefold()} <= words
    zip_code = customer.address.zip and customer.address.zip.casefold() in words
    return bool(
        (customer.email and customer.email.casefold() in said)
        or customer.id.casefold() in words
        or (named and zip_code)
    )


def _expected_customer(store: OrderStore, task: dict) -> str | None:
    for a in task["evaluation_criteria"]["actions"]:
        args = a["arguments"]
        if "order_id" in args and (order := store.order(args["order_id"])):
            return order.customer_id
        if "user_id" in args:
            return args["user_id"]
        if a["name"] == "find_user_id_by_email" and (
            found := store.customers_by_email(args["email"])
        ):
            return found[0].id
        if a["name"] == "find_user_id_by_name_zip":
            for c in store.customers_by_zip(args["zip"]):
                if (c.first_name, c.last_name) == (args["first_name"], args["last_name"]):
                    return c.id
    return None


def suite_result(report: OrdersReport, config: str, name: str, seconds: float) -> SuiteResult:
    headline = {
        "customer identified": report.customer_identified,
        "order identified": report.order_identified,
        "action name right": report.action_name,
        "action exact": report.action_exact,
        "tasks all exact": report.tasks_exact,
        "forbidden offered as ready": float(report.forbidden_ready),
        "suggestion p95 ms": report.latency_p95_ms,
    }
    worst = [
        WorstCase(
            id=r.id,
            asked=r.message[:300],
            shown=[f"{p['name']} {json.dumps(p['arguments'])}" for p in r.proposed],
            expected="; ".join(f"{a['name']} {json.dumps(a['arguments'])}" for a in r.expected),
            note=f"{r.exact} of {len(r.expected)} exact",
        )
        for r in sorted(report.results, key=lambda r: r.exact / max(len(r.expected), 1))[:10]
        if r.expected
    ]
    return SuiteResult(
        suite="orders",
        config=config,
        set=name,
        headline=headline,
        per_case={
            "action exact": {
                r.id: r.exact / max(len(r.expected), 1) for r in report.results if r.expected
            }
        },
        latencies_ms=[r.ms for r in report.results],
        worst=worst,
        notes=[
            f"{report.tasks} tasks, {report.actions} expected write actions; the first message "
            "only (a real agent asks for what is missing in the turns after it)",
            *(
                [
                    f"the LLM picked the new variant in {report.llm_picked} proposals "
                    f"({report.llm_picked_exact} of them exactly as expected)"
                ]
                if report.llm_picked
                else []
            ),
        ],
        seconds=seconds,
        detail=report.model_dump(exclude={"results"}),
    )
