"""`aisle eval`: the offline eval suites on the shop's own data, one report."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from assistant.config import Settings

from .app import IndexDir, fail, user_errors


# Long for its options (one typer parameter a flag, with its help); the body is ~70 lines.
def eval_(
    suites: Annotated[
        list[str] | None,
        typer.Argument(
            help="retrieval | dialogues | nlu | explain | simulate | replay | agent | "
            "orders | learning (default: every suite that applies to the index; learning only when "
            "named)"
        ),
    ] = None,
    eval_set: Annotated[
        str | None,
        typer.Option(
            "--set",
            help="an eval set in evals/sets, or a folder of your own; its index must hold "
            "that set's catalog (default: the set written for the index's catalog, if any)",
        ),
    ] = None,
    split: Annotated[str, typer.Option(help="dev | test | all (a set's own cases)")] = "dev",
    judged: Annotated[
        Path | None,
        typer.Option(help="retrieval: your judged pairs (JSONL: query, product_id, grade)"),
    ] = None,
    script: Annotated[
        Path | None,
        typer.Option(help='dialogues: your scripted dialogues (JSONL: turns of "text", "expect")'),
    ] = None,
    conversations: Annotated[
        Path | None,
        typer.Option(help="agent: your conversations with required and forbidden facts"),
    ] = None,
    tasks: Annotated[
        Path | None,
        typer.Option(
            help="orders: service tasks (τ²-bench's shape: the customer's situation and the "
            "expected actions), checked against the order store and the service rules"
        ),
    ] = None,
    events: Annotated[
        str | None,
        typer.Option(help="replay: the event log (SQLAlchemy URL; default: the index's)"),
    ] = None,
    config: Annotated[
        list[Path] | None,
        typer.Option(help="a settings TOML to evaluate; repeat to compare side by side"),
    ] = None,
    models: Annotated[
        str | None,
        typer.Option(
            help="comma-separated readers to compare: rules, qwen2.5-0.5b, qwen2.5-1.5b, "
            "smollm2-135m (instead of --config)"
        ),
    ] = None,
    no_llm: Annotated[bool, typer.Option("--no-llm", help="rules and facts only")] = False,
    llm_every_turn: Annotated[
        bool, typer.Option(help="dialogues/nlu: also run the LLM on every turn")
    ] = False,
    targets: Annotated[int, typer.Option(min=1, help="simulate: target products")] = 30,
    runs: Annotated[int, typer.Option(min=1, help="simulate: runs per target (pass^k)")] = 2,
    max_turns: Annotated[int, typer.Option(min=1, max=20, help="simulate: turns")] = 5,
    seed: Annotated[int, typer.Option(help="simulate: targets and phrasing drawn by it")] = 0,
    paraphrase: Annotated[
        bool, typer.Option(help="simulate: the LLM rewords the shopper's messages")
    ] = False,
    sessions: Annotated[
        int, typer.Option(min=10, help="learning: simulated shopper sessions")
    ] = 2_000,
    sizes: Annotated[
        str,
        typer.Option(help="learning: sessions of log the ranker is retrained on (comma list)"),
    ] = "0,100,1000,10000",
    baseline: Annotated[
        Path | None, typer.Option(help="an earlier run's report.json: deltas with 95 % intervals")
    ] = None,
    fail_under: Annotated[
        list[str] | None,
        typer.Option(help="SUITE.METRIC=VALUE: exit 1 when below (a CI gate); repeatable"),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="folder for report.json and report.html (default: evals/run-<time> "
            "beside the index)"
        ),
    ] = None,
    index_dir: IndexDir = None,
) -> None:
    """Offline evaluation on your shop's own index, written to one report (JSON and HTML).
    `retrieval`: NDCG@10, Recall@10/50, MRR per signal, hybrid, hybrid + ranker.
    `dialogues`: scripted turns with zero products that break a stated constraint (and,
    on a set, intent accuracy and slot F1); `nlu`: the reading alone. `simulate`: shoppers
    generated from the catalog with hidden needs. `replay`: the event log's impressions
    re-ranked by this configuration. `agent`: suggested replies. `orders`: the service
    console's proposed actions on service tasks (`--tasks`). `learning`: simulated
    shoppers with hidden preferences; "also looked at" and the ranker's learning curve."""
    import shlex
    from datetime import datetime

    from evals import report as rpt
    from evals.run import SUITES, EvalPlan, default_suites
    from evals.run import run as run_plan

    unknown = set(suites or []) - set(SUITES)
    if unknown:
        raise fail(
            f"unknown suite(s): {', '.join(sorted(unknown))}; available: {', '.join(SUITES)}"
        )
    if split not in ("dev", "test", "all"):
        raise fail(f"--split {split!r}: use dev, test or all")
    if config and models:
        raise fail("give --config files or --models, not both")
    needs_index = not suites or set(suites) != {"orders"}
    configs = _configs(config, models, no_llm, index_dir, eval_set, needs_index)
    settings = configs[0].settings
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    plan = EvalPlan(
        suites=[],
        configs=configs,
        split=split,
        judged=judged,
        script=script,
        conversations=conversations,
        tasks=tasks,
        events_url=events,
        targets=targets,
        runs=runs,
        max_turns=max_turns,
        seed=seed,
        paraphrase=paraphrase,
        llm_every_turn=llm_every_turn,
        sessions=sessions,
        sizes=_sizes(sizes),
        out=out or settings.index_dir.parent / "evals" / f"run-{stamp}",
    )
    plan.suites = list(suites or default_suites(plan, events or settings.event_log_location()))
    needs_set = {"retrieval": judged, "dialogues": script, "nlu": None}
    unset = any(c.eval_set is None for c in configs)
    for suite in plan.suites:
        if suite in needs_set and unset and needs_set[suite] is None:
            flag = {"retrieval": "--judged FILE", "dialogues": "--script FILE"}.get(suite, "--set")
            raise fail(f"{suite}: no eval set names this index's catalog: give {flag} or --set")
    try:
        old = rpt.load_run(baseline) if baseline else None
        for g in fail_under or []:
            rpt.parse_gate(g)
        result = run_plan(plan, say=lambda m: typer.secho(m, fg=typer.colors.BLUE, err=True))
    except (*user_errors(), ValueError) as exc:
        raise fail(str(exc)) from None
    result.command = "aisle eval " + shlex.join(sys.argv[2:])
    result.deltas = rpt.compare_configs(result.results)
    if old is not None:
        result.deltas += rpt.compare_baseline(result.results, old, baseline.name)
    ok = True
    if fail_under:
        try:
            result.gates, ok = rpt.check_gates(result.results, fail_under)
        except ValueError as exc:
            raise fail(str(exc)) from None
    js, page = rpt.write(result, plan.out)
    _print_result(result, rpt)
    print(f"\nreport: {page}\n        {js}  ({result.seconds:.0f} s)")
    if not ok:
        raise typer.Exit(code=1)


def _configs(config, models, no_llm: bool, index_dir, eval_set, needs_index=True) -> list:
    """The configurations to compare, each on its own index with the set written for its
    catalog (`--set` names one for all)."""
    from evals.run import EvalConfig
    from evals.sets import load_set, set_for_catalog
    from retrieval.index import ProductIndex

    try:
        bases = (
            [(p.stem, Settings.from_file(p)) for p in config]
            if config
            else [("default", Settings())]
        )
    except ValueError as exc:
        raise fail(str(exc)) from None
    configs = []
    for name, base in bases:
        base = base.with_overrides(index_dir=index_dir)
        if models:
            for m in [m.strip() for m in models.split(",") if m.strip()]:
                rules = m in ("rules", "facts")
                configs.append(
                    EvalConfig(name=m, settings=base, use_llm=not rules, model=None if rules else m)
                )
        else:
            label = f"{name} (no LLM)" if no_llm else name
            configs.append(EvalConfig(name=label, settings=base, use_llm=not no_llm))
    for c in configs:  # each configuration's own index, and the set written for its catalog
        index = ProductIndex(c.settings)
        if not index.exists() and not needs_index:
            continue  # the orders suite reads the order store, not the catalog
        if not index.exists():
            raise fail(f"no index in {c.settings.index_dir}: run `aisle ingest CATALOG` first")
        name = eval_set or set_for_catalog(index.manifest.catalog)
        if name:
            try:
                c.eval_set = load_set(name)
            except ValueError as exc:
                raise fail(str(exc)) from None
    return configs


def _print_result(result, rpt) -> None:
    """The headline table, each suite's notes, the differences that matter, the gates."""
    print(rpt.headline_table(result))
    for r in result.results:
        for n in r.notes:
            print(f"  {r.suite} · {r.config}: {n}")
    for d in result.deltas:
        if d.delta == 0 and not d.better:
            continue  # unchanged: in the report's table
        ci = f" [{d.low:+.3f}, {d.high:+.3f}]" if d.low is not None else ""
        verdict = {True: "better", False: "worse", None: "within noise"}[d.better]
        verdict = verdict if d.low is not None else "(one number a run: no interval)"
        print(
            f"  {d.suite}.{d.metric} {d.candidate} vs {d.reference}: {d.delta:+.3f}{ci} {verdict}"
        )
    for g in result.gates:
        print(f"  gate {g}")


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise fail(f"--sizes {text!r}: whole numbers separated by commas") from None
    if not sizes or min(sizes) < 0:
        raise fail(f"--sizes {text!r}: at least one number, none negative")
    return sorted(set(sizes))
