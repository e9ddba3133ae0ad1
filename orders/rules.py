"""The actions a shop allows and their rules, as data (`service-rules.toml`, one per shop,
beside its policies): which order states each action needs, which reasons it may carry,
where refunds may go, whether new items must be variants of the same product. The action
vocabulary is τ²-bench retail's; a shop's rules file names the actions it offers."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from base.language.text import fold

ACTIONS = (
    "cancel_pending_order",
    "modify_pending_order_address",
    "modify_pending_order_payment",
    "modify_pending_order_items",
    "modify_user_address",
    "return_delivered_order_items",
    "exchange_delivered_order_items",
    "transfer_to_human_agents",
)
# the actions that answer each kind of request a customer makes about an order's items
KIND_ACTIONS = {
    "cancel": ("cancel_pending_order",),
    "return": ("return_delivered_order_items",),
    "change": ("modify_pending_order_items", "exchange_delivered_order_items"),
    "address": ("modify_pending_order_address",),
    "payment": ("modify_pending_order_payment",),
}
ADDRESS_FIELDS = ("address1", "address2", "city", "state", "country", "zip")
# each action's arguments, in τ²-bench retail's names and order
ARGUMENTS = {
    "cancel_pending_order": ("order_id", "reason"),
    "modify_pending_order_address": ("order_id", *ADDRESS_FIELDS),
    "modify_pending_order_payment": ("order_id", "payment_method_id"),
    "modify_pending_order_items": ("order_id", "item_ids", "new_item_ids", "payment_method_id"),
    "modify_user_address": ("user_id", *ADDRESS_FIELDS),
    "return_delivered_order_items": ("order_id", "item_ids", "payment_method_id"),
    "exchange_delivered_order_items": ("order_id", "item_ids", "new_item_ids", "payment_method_id"),
    "transfer_to_human_agents": ("summary",),
}


class RulesError(ValueError):
    """A rules file that cannot be read (named, with the line or field)."""


class ActionRule(BaseModel, extra="forbid"):
    states: list[str] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list)
    refund_to: list[str] = Field(default_factory=list)
    same_product: bool = False
    covers: list[str] = Field(default_factory=list)
    once: bool = False
    after: str = ""
    passage: str = ""


class ServiceRules(BaseModel, extra="forbid"):
    actions: dict[str, ActionRule]

    def allows(self, action: str) -> bool:
        return action in self.actions

    def rule(self, action: str) -> ActionRule:
        return self.actions[action]

    def allows_in(self, action: str, status: str) -> bool:
        """Whether an order in this status is one the action can be taken on."""
        rule = self.actions.get(action)
        return rule is not None and fold(status) in {fold(s) for s in rule.states}

    def states_for(self, kind: str) -> frozenset[str]:
        """The order states (folded) a request of this kind can be met in: those of the
        actions that answer it (returns: what arrived; cancellations: what has not)."""
        return frozenset(
            fold(s)
            for a in KIND_ACTIONS.get(kind, ())
            if a in self.actions
            for s in self.actions[a].states
        )

    @property
    def finished_states(self) -> set[str]:
        """States an action leaves an order in after which no `once` action may follow."""
        return {r.after for r in self.actions.values() if r.once and r.after}


def load_rules(path: Path) -> ServiceRules:
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RulesError(f"{path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{path}: {exc}") from None
    try:
        rules = ServiceRules(**raw)
    except ValidationError as exc:
        e = exc.errors()[0]
        raise RulesError(f"{path}: {'.'.join(map(str, e['loc']))}: {e['msg']}") from None
    unknown = set(rules.actions) - set(ACTIONS)
    if unknown:
        raise RulesError(
            f"{path}: unknown action(s) {', '.join(sorted(unknown))}; known: {', '.join(ACTIONS)}"
        )
    return rules
