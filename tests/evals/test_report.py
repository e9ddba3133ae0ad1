"""The run's report: paired-bootstrap deltas, gates, and a page holding every suite."""

from __future__ import annotations

import pytest

from evals import report as rpt


def _result(suite, config, scores, **extra):
    return rpt.SuiteResult(
        suite=suite,
        config=config,
        set="shop",
        headline={"ndcg@10": sum(scores.values()) / len(scores), **extra},
        per_case={"ndcg@10": scores},
        latencies_ms=[10.0, 20.0, 30.0],
        worst=[rpt.WorstCase(id="q1", asked="red <kettle>", shown=["K1 Alpine"], note="low")],
    )


def test_paired_bootstrap_sees_a_consistent_gain_and_not_noise():
    a = {f"q{i}": 0.5 for i in range(40)}
    better = {q: v + 0.1 for q, v in a.items()}
    d, low, high, n = rpt.paired_bootstrap(a, better)
    assert n == 40 and d == pytest.approx(0.1) and low > 0
    noisy = {q: v + (0.1 if i % 2 else -0.1) for i, (q, v) in enumerate(a.items())}
    _, low, high, _ = rpt.paired_bootstrap(a, noisy)
    assert low < 0 < high


def test_a_lower_is_better_metric_reads_a_drop_as_better():
    ref = rpt.SuiteResult(
        suite="simulate",
        config="a",
        set="s",
        headline={"violations per turn": 0.5},
        per_case={"violations per turn": {str(i): 0.5 for i in range(30)}},
    )
    cand = ref.model_copy(
        update={
            "config": "b",
            "headline": {"violations per turn": 0.1},
            "per_case": {"violations per turn": {str(i): 0.1 for i in range(30)}},
        }
    )
    (d,) = rpt.compare(ref, cand, "a")
    assert d.delta == pytest.approx(-0.4) and d.better is True


def test_gates_pass_fail_and_name_unknown_metrics():
    results = [_result("retrieval", "default", {"q1": 0.6, "q2": 0.8})]
    lines, ok = rpt.check_gates(results, ["retrieval.ndcg@10=0.5"])
    assert ok and "passed" in lines[0]
    lines, ok = rpt.check_gates(results, ["ndcg@10=0.9"])
    assert not ok and "FAILED" in lines[0]
    with pytest.raises(ValueError, match="retrieval.ndcg@10"):
        rpt.check_gates(results, ["simulate.success=0.5"])
    with pytest.raises(ValueError, match="METRIC=VALUE"):
        rpt.parse_gate("ndcg@10>0.5")


def test_the_page_holds_every_suite_escaped_with_plots_and_deltas(tmp_path):
    a = _result("retrieval", "A", {"q1": 0.5, "q2": 0.7})
    b = _result("retrieval", "B", {"q1": 0.6, "q2": 0.9})
    sim = rpt.SuiteResult(
        suite="simulate",
        config="A",
        set="shop",
        headline={"success@3": 0.7},
        success_by_turn=[0.3, 0.6, 0.7],
        latencies_ms=[50.0, 70.0],
    )
    run = rpt.EvalRun(command="aisle eval", results=[a, b, sim])
    run.deltas = rpt.compare_configs(run.results)
    js, page = rpt.write(run, tmp_path / "out")
    text = page.read_text()
    for needle in (
        "retrieval · shop",
        "simulate · shop",
        "Comparisons",
        "success by turn",
        "data:image/png;base64,",
        "red &lt;kettle&gt;",
    ):
        assert needle in text, needle
    assert "<kettle>" not in text
    again = rpt.load_run(js)
    assert [r.suite for r in again.results] == ["retrieval", "retrieval", "simulate"]
    (delta,) = [d for d in run.deltas if d.metric == "ndcg@10"]
    assert delta.candidate == "B" and delta.reference == "A" and delta.cases == 2


def test_a_baseline_that_is_not_a_report_is_named(tmp_path):
    bad = tmp_path / "old.json"
    bad.write_text("[1, 2]")
    with pytest.raises(ValueError, match="not an `aisle eval` report"):
        rpt.load_run(bad)
    with pytest.raises(ValueError, match="no such file"):
        rpt.load_run(tmp_path / "missing.json")
