"""`aisle eval` as a shop's engineer runs it, on a tiny shop written in the test: their own
judged pairs, scripts and event log, one report, a gate, a baseline, two configurations."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cli import app

runner = CliRunner()


def _env(monkeypatch, settings):
    monkeypatch.setenv("AISLE_INDEX_DIR", str(settings.index_dir))
    monkeypatch.setenv("AISLE_TEXT_MODEL", settings.text_model)
    monkeypatch.setenv("AISLE_DEVICE", "cpu")


def _simulate(out, *args: str):
    """`aisle eval simulate` on 6 targets, one run each, rules only (later flags win)."""
    flags = ["--targets", "6", "--runs", "1", "--no-llm", "--out", str(out)]
    return runner.invoke(app, ["eval", "simulate", *flags, *args])


def _lines(path, rows):
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    return path


JUDGED = [
    {"query": "red kettle", "product_id": "K1", "grade": 3},
    {"query": "red kettle", "product_id": "K4", "grade": 3},
    {"query": "red kettle", "product_id": "K2", "grade": 1},
    {"query": "blue mug", "product_id": "M1", "grade": 3},
    {"query": "blue mug", "product_id": "M4", "grade": 3},
    {"query": "apron", "product_id": "S1", "grade": 2, "query_id": "a1"},
]
SCRIPT = [
    {
        "id": "d1",
        "turns": [
            {"text": "a kettle", "expect": ["category=kettles"]},
            {"text": "under $30 please", "expect": ["category=kettles", "price<30"]},
        ],
    },
    [{"text": "mugs by Holm", "expect": ["category=mugs", "brand=Holm"]}],
]


def test_bad_rows_are_named_with_their_line(tiny_shop, tmp_path, monkeypatch):
    _env(monkeypatch, tiny_shop[0])
    judged = _lines(
        tmp_path / "j.jsonl",
        [JUDGED[0], '{"query": "x"', {"query": "y", "product_id": "NOPE", "grade": 2}],
    )
    out = runner.invoke(
        app, ["eval", "retrieval", "--judged", str(judged), "--out", str(tmp_path / "r")]
    )
    assert out.exit_code == 2
    assert "line 2: not valid JSON" in out.output and "line 3: product 'NOPE'" in out.output

    script = _lines(
        tmp_path / "s.jsonl",
        [SCRIPT[0], {"turns": [{"text": "mugs", "expect": ["flavour=mint"]}]}, {"turns": []}],
    )
    out = runner.invoke(
        app, ["eval", "dialogues", "--script", str(script), "--out", str(tmp_path / "r")]
    )
    assert out.exit_code == 2
    assert "line 2: turn 1:" in out.output and "flavour" in out.output and "line 3" in out.output


def test_a_whole_run_writes_one_report_with_every_suite(tiny_shop, tmp_path, monkeypatch):
    settings, _ = tiny_shop
    _env(monkeypatch, settings)
    judged = _lines(tmp_path / "j.jsonl", JUDGED)
    script = _lines(tmp_path / "s.jsonl", SCRIPT)
    events = _shop_log(settings, tmp_path / "shop-events.sqlite")
    out = tmp_path / "run"
    args = [
        "eval",
        "--judged",
        str(judged),
        "--script",
        str(script),
        "--events",
        events,
        "--targets",
        "6",
        "--runs",
        "2",
        "--no-llm",
        "--out",
        str(out),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    suites = [r["suite"] for r in report["results"]]
    assert suites == ["retrieval", "dialogues", "explain", "simulate", "replay"]
    page = (out / "report.html").read_text()
    for s in (
        "retrieval · j.jsonl",
        "dialogues · s.jsonl",
        "explain · j.jsonl + s.jsonl",
        "simulate ·",
        "replay ·",
    ):
        assert s in page
    explain = next(r for r in report["results"] if r["suite"] == "explain")
    assert explain["headline"]["replies"] >= 1
    assert explain["headline"]["reasons with an unsupported fact"] == 0
    dialogues = next(r for r in report["results"] if r["suite"] == "dialogues")
    assert dialogues["detail"]["checked_turns"] == 3
    replay = next(r for r in report["results"] if r["suite"] == "replay")
    assert replay["headline"]["impressions"] == 1
    # the eval wrote nothing into the shop's own conversation store or event log
    assert not (settings.index_dir / "events.sqlite").exists()

    # the same run as a baseline: deltas of zero; a gate above what it got fails the run
    again = _simulate(
        tmp_path / "b",
        "--runs",
        "2",
        "--baseline",
        str(out / "report.json"),
        "--fail-under",
        "simulate.success@5=1.01",
    )
    assert again.exit_code == 1, again.output
    assert "FAILED" in again.output
    second = json.loads((tmp_path / "b" / "report.json").read_text())
    deltas = [d for d in second["deltas"] if d["metric"] == "success@5"]
    assert deltas and deltas[0]["delta"] == 0.0 and deltas[0]["reference"].startswith("baseline")


def _shop_log(settings, path) -> str:
    """A shop's log: one reply of three mugs where the shopper carted the third."""
    from ranking.events import Event, EventLog

    url = f"sqlite:///{path}"
    log = EventLog(url)
    shown = ["M3", "M2", "M1"]
    events = [
        Event(
            kind="impression",
            session="s1",
            reply_id="r1",
            query="blue mug",
            product_id=p,
            position=n,
            detail={"ranking_query": "blue mug"},
        )
        for n, p in enumerate(shown, 1)
    ]
    events.append(Event(kind="cart_add", session="s1", reply_id="r1", product_id="M1", position=3))
    log.record(events)
    return url


def test_replay_scores_where_the_engaged_product_lands(tiny_shop, tmp_path):
    from assistant.pipeline import Assistant
    from evals.suites.replay import replay
    from ranking.events import EventLog
    from ranking.rank import RankedItem

    settings, _ = tiny_shop
    bot = Assistant(settings.with_overrides(event_log_enabled=False), use_llm=False)
    url = _shop_log(settings, tmp_path / "e.sqlite")

    class Prefers:
        name = "prefers-M1"

        def rank(self, query, candidates, history=()):
            order = sorted(candidates, key=lambda c: c.product.id != "M1")
            return [RankedItem.of(c, 1.0, self.name) for c in order]

    report = replay(EventLog(url).events(), bot.parts.searcher, Prefers(), bot.parts.index)
    assert report.impressions == 1
    assert report.logged["mrr"] == pytest.approx(1 / 3, abs=1e-3)
    assert report.candidate["mrr"] == 1.0


def test_two_configurations_side_by_side(tiny_shop, tmp_path, monkeypatch):
    settings, _ = tiny_shop
    _env(monkeypatch, settings)
    a = tmp_path / "a.toml"
    a.write_text("results_per_turn = 5\n")
    b = tmp_path / "b.toml"
    b.write_text("results_per_turn = 1\n")
    out = tmp_path / "run"
    result = _simulate(out, "--config", str(a), "--config", str(b))
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert [r["config"] for r in report["results"]] == ["a (no LLM)", "b (no LLM)"]
    assert any(
        d["candidate"] == "b (no LLM)" and d["reference"] == "a (no LLM)" for d in report["deltas"]
    )
    typo = tmp_path / "typo.toml"
    typo.write_text("results_per_trun = 3\n")
    bad = runner.invoke(app, ["eval", "simulate", "--config", str(typo), "--out", str(out)])
    assert bad.exit_code == 2 and "results_per_trun" in bad.output


def test_configurations_on_different_shops_report_side_by_side(tiny_shop, tmp_path, monkeypatch):
    """One run over two shops (each configuration names its index): each is reported under
    its own catalog, and no delta pairs one shop's cases with the other's."""
    from retrieval.ingest import ingest

    from .conftest import write_shop

    settings, _ = tiny_shop
    _env(monkeypatch, settings)
    other = tmp_path / "second-shop"
    other.mkdir()
    write_shop(other / "products.csv")
    ingest(
        other / "products.csv", settings.with_overrides(index_dir=other / "index"), progress=False
    )
    a, b = tmp_path / "first.toml", tmp_path / "second.toml"
    a.write_text(f'index_dir = "{settings.index_dir}"\n')
    b.write_text(f'index_dir = "{other / "index"}"\n')
    out = tmp_path / "run"
    result = _simulate(out, "--config", str(a), "--config", str(b), "--targets", "4")
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert [r["set"] for r in report["results"]] == [settings.index_dir.parent.name, "second-shop"]
    assert report["deltas"] == []


def test_a_shops_own_conversations_for_the_agent_console(tiny_shop, tmp_path, monkeypatch):
    """A shop with no policies: a product question is answered from the product, a policy
    question is "I'll check", and a bad line is named."""
    settings, _ = tiny_shop
    _env(monkeypatch, settings)
    good = [
        {
            "id": "c1",
            "kind": "product",
            "required": ["@kettle"],
            "messages": [{"role": "customer", "text": "do you have a red kettle?"}],
        },
        {
            "id": "c2",
            "kind": "returns",
            "required": ["__check__"],
            "must_not": ["60 days"],
            "messages": [{"role": "customer", "text": "how many days do I have to return it?"}],
        },
    ]
    bad = _lines(tmp_path / "bad.jsonl", [good[0], {"id": "c3", "messages": []}])
    out = runner.invoke(
        app,
        ["eval", "agent", "--conversations", str(bad), "--no-llm", "--out", str(tmp_path / "x")],
    )
    assert out.exit_code == 2 and "line 2" in out.output
    path = _lines(tmp_path / "conversations.jsonl", good)
    out = runner.invoke(
        app,
        ["eval", "agent", "--conversations", str(path), "--no-llm", "--out", str(tmp_path / "run")],
    )
    assert out.exit_code == 0, out.output
    (agent,) = json.loads((tmp_path / "run" / "report.json").read_text())["results"]
    assert agent["suite"] == "agent" and agent["set"] == "conversations.jsonl"
    assert agent["detail"]["conversations"] == 2
    assert agent["headline"]["suggestions with unsupported facts"] == 0.0
    assert agent["per_case"]["with every required fact"] == {"c1": 1.0, "c2": 1.0}, agent["detail"]
