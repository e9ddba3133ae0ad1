"""The orders suite: τ² tasks as the customer's first message, proposals against the
expected write actions, and `aisle eval orders` end to end."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from cli import app
from evals.suites.orders import _key, evaluate, first_person, task_message
from tests.orders.conftest import RULES, TAU2, tau2_rules, tau2_store  # noqa: F401 - fixtures


def test_instructions_become_the_customers_own_words():
    said = first_person("You are Yusuf Rossi in zip code 19122. You want to return your mug.")
    assert said == "I am Yusuf Rossi in zip code 19122. I want to return my mug."
    task = {
        "user_scenario": {
            "instructions": {
                "known_info": "Your name is Ann.",
                "reason_for_call": "If you can, cancel it.",
            }
        }
    }
    assert task_message(task) == "my name is Ann. If I can, cancel it."


def test_actions_compare_as_the_store_would_apply_them():
    a = {
        "name": "exchange_delivered_order_items",
        "arguments": {"order_id": "#1", "item_ids": ["a", "b"], "new_item_ids": ["x", "y"]},
    }
    b = {
        "name": "exchange_delivered_order_items",
        "arguments": {"order_id": "#1", "item_ids": ["b", "a"], "new_item_ids": ["y", "x"]},
    }
    c = {
        "name": "exchange_delivered_order_items",
        "arguments": {"order_id": "#1", "item_ids": ["b", "a"], "new_item_ids": ["x", "y"]},
    }
    assert _key(a) == _key(b) != _key(c)


def test_the_train_tasks(tau2_store, tau2_rules):  # noqa: F811
    report = evaluate(tau2_store, tau2_rules, TAU2 / "tasks-train.json")
    assert report.tasks == 74 and report.actions == 122
    assert report.customer_identified == 1.0  # every message that holds an identity
    assert report.forbidden_ready == 0  # nothing the rules forbid is offered as ready
    assert report.action_exact >= 0.65  # measured 0.705 (docs/service.md)
    assert report.order_identified >= 0.9
    assert report.llm_picked == 0  # no chooser given


def test_the_llms_picks_are_counted(tau2_store, tau2_rules):  # noqa: F811
    """A chooser that always takes the first variant offered: its picks are counted, and
    none of them is ever offered where the rules forbid the action."""
    asked = []

    def first(line, said, offered):
        asked.append(line.item_id)
        return offered[0].item_id

    report = evaluate(tau2_store, tau2_rules, TAU2 / "tasks-train.json", first)
    assert asked and report.llm_picked > 0
    assert report.llm_picked_exact <= report.llm_picked and report.forbidden_ready == 0


def test_aisle_eval_orders(tmp_path):
    from tests.orders.conftest import TAU2 as data

    out = CliRunner().invoke(
        app, ["orders", "import", str(data / "db.json"), "--index-dir", str(tmp_path)]
    )
    assert out.exit_code == 0, out.output
    args = ["eval", "orders", "--tasks", str(data / "tasks-train.json"), "--no-llm"]
    args += ["--index-dir", str(tmp_path), "--out", str(tmp_path / "run")]
    out = CliRunner().invoke(app, args, env={"AISLE_SERVICE_RULES": str(RULES)})
    assert out.exit_code == 0, out.output
    result = json.loads((tmp_path / "run" / "report.json").read_text())["results"][0]
    assert result["suite"] == "orders" and result["headline"]["customer identified"] == 1.0
    out = CliRunner().invoke(app, args, env={"AISLE_SERVICE_RULES": str(tmp_path / "none.toml")})
    assert out.exit_code == 2 and "none.toml" in out.output


def test_the_eval_asks_the_llm_as_the_console_would(monkeypatch):
    """Off for a model on a CPU unless the setting says so; a model that cannot load leaves
    the rules to propose."""
    import assistant.llm
    from assistant.config import Settings
    from assistant.llm_models import LLMUnavailableError
    from evals.run import EvalConfig, _chooser

    monkeypatch.setattr(assistant.llm, "make_chat_model", lambda settings, device: object())
    cpu = Settings(device="cpu")
    assert _chooser(EvalConfig(name="a", settings=cpu), cpu) is None
    on = cpu.with_overrides(llm_picks_variants=True)
    assert callable(_chooser(EvalConfig(name="a", settings=on), on))
    assert _chooser(EvalConfig(name="a", settings=on, use_llm=False), on) is None

    def unavailable(settings, device):
        raise LLMUnavailableError("no model file")

    monkeypatch.setattr(assistant.llm, "make_chat_model", unavailable)
    assert _chooser(EvalConfig(name="a", settings=on), on) is None
