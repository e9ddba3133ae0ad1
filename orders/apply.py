"""Applying a confirmed action to the order store (only with `orders_write = true`; by
default the console shows the action for the agent to carry out in the shop's own system).
Each action is checked again against the order as it is now, and written in one
transaction: the order before or after, never a mix."""

from __future__ import annotations

from .propose import Proposal
from .records import Address, OrderLine
from .rules import ADDRESS_FIELDS, ServiceRules
from .store import OrderStore


class ActionRefusedError(ValueError):
    """The order changed since the action was proposed, or the rules forbid it now."""


def apply_action(store: OrderStore, rules: ServiceRules, proposal: Proposal) -> str:
    """The action applied; what was done, in a sentence."""
    args = proposal.arguments
    rule = rules.actions.get(proposal.name)
    if rule is None:
        raise ActionRefusedError(f"this shop's rules do not offer {proposal.name}")
    if proposal.name in ("modify_user_address", "transfer_to_human_agents"):
        return f"{proposal.name.replace('_', ' ')}: recorded (carried out outside the order store)"
    order = store.order(args["order_id"])
    if order is None:
        raise ActionRefusedError(f"no order {args['order_id']}")
    if rule.states and order.status not in rule.states:
        raise ActionRefusedError(f"order {order.id} is {order.status} now")
    if proposal.name == "modify_pending_order_address":
        order.address = Address(**{f: str(args.get(f, "")) for f in ADDRESS_FIELDS})
    elif proposal.name in ("modify_pending_order_items", "exchange_delivered_order_items"):
        for old, new in zip(args["item_ids"], args["new_item_ids"], strict=True):
            variant = store.variant(new)
            at = next((i for i, line in enumerate(order.lines) if line.item_id == old), None)
            if variant is None or at is None or not variant.available:
                raise ActionRefusedError(f"item {old} → {new} is not possible now")
            if proposal.name == "modify_pending_order_items":  # the order itself changes
                order.lines[at] = OrderLine(
                    item_id=variant.item_id,
                    product_id=variant.product_id,
                    name=variant.product_name,
                    options=variant.options,
                    price=variant.price,
                )
    if rule.after:
        order.status = rule.after
    store.save_order(order)
    return f"{proposal.name.replace('_', ' ')} on {order.id}: done, the order is {order.status}"
