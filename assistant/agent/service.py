"""The service desk beside the suggested replies: the customer and their orders from the
order store, the action their request asks for, checked against the shop's rules, and the
reply that lists it for the customer to confirm (or says why it cannot be done, or asks for
what is missing). The rules and the order store decide; nothing is guessed."""

from __future__ import annotations

from pathlib import Path

from base.stores import store_exists
from orders.apply import apply_action
from orders.propose import Proposal, ServiceCase, VariantChooser, service_case
from orders.records import OrderLine, Variant
from orders.rules import ServiceRules, load_rules
from orders.store import OrderStore

from ..config import Settings
from ..wording import money

ASK_IDENTITY = (
    "I'd be glad to help with your order. To find it, could you give me the e-mail address "
    "on your account, or your full name and zip code?"
)


class ServiceDesk:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._store: OrderStore | None = None
        self._rules: tuple[Path | None, ServiceRules | None] | None = None

    @property
    def store(self) -> OrderStore | None:
        """The order store, when the shop has one (a URL set, or orders imported)."""
        if self._store is None:
            url = self.settings.orders_location()
            if self.settings.orders_url or store_exists(url):
                self._store = OrderStore(url)
        return self._store

    @property
    def rules(self) -> ServiceRules | None:
        path = self.settings.service_rules_file()
        if self._rules is None or self._rules[0] != path:
            self._rules = (path, load_rules(path) if path else None)
        return self._rules[1]

    def case(self, customer_texts: list[str], llm=None) -> ServiceCase | None:
        """None when the shop has no order store; else who, their orders, what to do.
        `llm`: asked for a new variant where the rules read none from the customer's words
        (the rules and the store check its pick)."""
        if self.store is None:
            return None
        rules = self.rules or ServiceRules(actions={})
        picks = llm is not None and llm_picks_variants(self.settings)
        choose = variant_chooser(llm, self.settings) if picks else None
        case = service_case(self.store, rules, customer_texts, choose)
        if self.rules is None:
            case.note = (case.note + " " if case.note else "") + (
                "no service rules: actions are shown but none is offered "
                "(add service-rules.toml beside the policies and ingest them)"
            )
        return case

    def confirm(self, proposal: Proposal) -> str:
        """The agent confirmed: applied to the order store with `orders_write`, else left for
        the agent to carry out in the shop's own system."""
        if not self.settings.orders_write:
            return "recorded; carry it out in the shop's system (orders_write is off)"
        return apply_action(self.store, self.rules or ServiceRules(actions={}), proposal)


def llm_picks_variants(settings: Settings) -> bool:
    """Whether the LLM is asked for new variants: the setting, else on for a GPU or an LLM
    server, off for a model on a CPU (measured: mostly wrong picks)."""
    if settings.llm_picks_variants is not None:
        return settings.llm_picks_variants
    from retrieval.models import resolve_device

    return bool(settings.llm_url) or resolve_device(settings.device) == "cuda"


CHOOSE_SYSTEM = (
    "You help a shop's customer-service agent. A customer wants to exchange or change an item "
    "they ordered. From the customer's words and the variants the shop offers, pick the one "
    'variant they most likely mean, or "none" when their words do not point to one. Answer '
    'with JSON: {"item_id": "<one of the ids listed, or none>"}.'
)


def variant_chooser(llm, settings: Settings) -> VariantChooser:
    """The LLM asked to pick, among the variants offered, the one the customer's words mean;
    its answer is constrained to those ids (or "none")."""
    from langchain_core.messages import HumanMessage, SystemMessage

    from ..llm import chat_json

    def choose(line: OrderLine, said: str, offered: list[Variant]) -> str | None:
        offered = offered[:60]  # a bounded prompt: enough for any product's variants
        listed = "\n".join(
            f"{v.item_id}: {', '.join(f'{k} {x}' for k, x in v.options.items())}; {v.price:.2f}"
            for v in offered
        )
        user = (
            f"Item ordered: {line.label()}\nThe customer's words about it: {said.strip()}\n"
            f"Variants offered:\n{listed}"
        )
        ids = [v.item_id for v in offered]
        schema = {
            "type": "object",
            "properties": {"item_id": {"type": "string", "enum": [*ids, "none"]}},
            "required": ["item_id"],
        }
        answer = chat_json(
            llm,
            [SystemMessage(content=CHOOSE_SYSTEM), HumanMessage(content=user)],
            schema,
            settings.llm_timeout_s,
            max_tokens=48,
        )
        picked = str(answer.get("item_id", ""))
        return picked if picked in ids else None

    return choose


def service_reply(case: ServiceCase, currency: str = "USD") -> str:
    """The reply the agent sends: the actions in full, to confirm; or why they cannot be
    done; or what is needed first."""
    if case.customer is None:
        return ASK_IDENTITY
    name = case.customer.first_name or "there"
    ready = [p for p in case.proposals if p.allowed]
    refused = [p for p in case.proposals if p.why_not]
    lines = [f"Thanks, {name}, I found your account."]
    for p in ready:
        lines.append(_describe(p, currency))
    if ready:
        lines.append("Could you confirm (yes) that I should go ahead with this?")
    for p in refused:
        lines.append(
            f"I can't {_verb(p)} {p.order_id or ''}: {'; '.join(p.why_not)}.".replace(" :", ":")
        )
    for q in case.questions:
        lines.append(f"To go on, could you tell me {q}?")
    if len(lines) == 1:
        lines.append("Which order and what would you like me to do with it?")
    return "\n".join(lines)


def _verb(p: Proposal) -> str:
    return p.name.split("_order")[0].replace("_", " ")


def _describe(p: Proposal, currency: str) -> str:
    items = ", ".join(p.items)
    if p.name == "cancel_pending_order":
        return f"I can cancel order {p.order_id} ({items}) as {p.arguments['reason']!r}; " + (
            f"{money(-p.difference, currency)} goes back to your {p.payment}."
            if p.difference
            else ""
        )
    if p.name == "return_delivered_order_items":
        return (
            f"I can start a return of {items} from order {p.order_id}; the refund of "
            f"{money(-p.difference, currency)} goes to your {p.payment}."
        )
    if p.name in ("exchange_delivered_order_items", "modify_pending_order_items"):
        change = "; ".join(f"{a} → {b}" for a, b in zip(p.items, p.new_items, strict=False))
        what = "exchange" if p.name.startswith("exchange") else "change"
        diff = p.difference or 0.0
        settle = (
            f"you pay the difference of {money(diff, currency)} with your {p.payment}"
            if diff > 0
            else f"the difference of {money(-diff, currency)} goes back to your {p.payment}"
            if diff < 0
            else "there is no price difference"
        )
        return f"I can {what} in order {p.order_id}: {change}; {settle}."
    if p.name == "modify_pending_order_address":
        return f"I can change the shipping address of order {p.order_id} to {items}."
    if p.name == "transfer_to_human_agents":
        return "I'll pass you to a colleague who can help with this."
    return f"I can {p.name.replace('_', ' ')} ({p.arguments})."
