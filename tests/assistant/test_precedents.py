"""Precedents: resolved conversations imported or kept from the console, redacted, and the
closest ones found for a new conversation."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from assistant.agent.conversation import parse_conversation
from assistant.agent.precedents import PrecedentStore, read_precedents
from cli import app

HISTORY = [
    {
        "messages": [
            {"role": "customer", "text": "My parcel never arrived, tracking says delivered"},
            {"role": "agent", "text": "I'm sorry! I've opened a claim with the carrier."},
        ]
    },
    {
        "conversation": "Customer: Can I swap my mug for a bigger one?\nAgent: Yes, ...",
        "reply": "Yes: I can exchange it for the 500 ml mug at no cost.",
    },
    {"messages": [{"role": "customer", "text": "hello"}]},  # no reply: reported
    "not an object",
]


def _history(tmp_path):
    path = tmp_path / "history.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in HISTORY) + "\n{broken\n")
    return path


def test_resolved_conversations_are_read_and_bad_lines_named(tmp_path):
    pairs, bad = read_precedents(_history(tmp_path))
    assert [a for a, _ in pairs] == [
        "My parcel never arrived, tracking says delivered",
        "Can I swap my mug for a bigger one?",
    ]
    assert pairs[1][1].startswith("Yes: I can exchange")
    assert [b.split(":")[0] for b in bad] == ["line 3", "line 4", "line 5"]


def test_the_closest_cases_are_found_and_stored_redacted(tmp_path):
    store = PrecedentStore(f"sqlite:///{tmp_path / 'p.sqlite'}")
    pairs, _ = read_precedents(_history(tmp_path))
    store.add_many(pairs, "imported")
    (best,) = store.closest("the mug I bought is too small, can I get a bigger mug?", k=1)
    assert "exchange" in best.reply and best.source == "imported"
    assert store.closest("zzz qqq") == []  # nothing in common: nothing shown
    messages = parse_conversation("Customer: my parcel is lost, write me at ann@example.com")
    store.add(messages, "A claim is open; we'll e-mail ann@example.com", "used")
    found = store.closest("parcel lost", k=1)[0]
    assert "ann@example.com" not in found.asked + found.reply and "[email]" in found.reply


def test_aisle_precedents_import(tmp_path):
    out = CliRunner().invoke(
        app, ["precedents", "import", str(_history(tmp_path)), "--index-dir", str(tmp_path)]
    )
    assert out.exit_code == 0, out.output
    assert "Imported 2 resolved conversations" in out.output and "skipped line 3" in out.output
    assert (tmp_path / "precedents.sqlite").is_file()
