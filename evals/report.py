"""One report for every `aisle eval` run: a JSON file and a self-contained HTML page
(tables, matplotlib plots embedded as PNG, the worst cases), comparisons between the
configurations of the run and against a baseline run's JSON with paired-bootstrap
confidence intervals, and `--fail-under` gates.

Each suite hands in a `SuiteResult`: its headline metrics, and per metric the score of
each case (query, turn, episode, impression) so two runs can be compared case by case."""

from __future__ import annotations

import base64
import html
import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

# metrics where lower is better (a delta below zero is an improvement)
LOWER_IS_BETTER = re.compile(r"violations per|unsupported|already answered|ms\b|turns to|repeated")


class WorstCase(BaseModel):
    id: str
    asked: str  # what the shopper or the query said
    shown: list[str] = Field(default_factory=list)
    expected: str = ""
    note: str = ""


class SuiteResult(BaseModel):
    suite: str
    config: str
    set: str  # the eval set or file it ran on
    headline: dict[str, float]
    per_case: dict[str, dict[str, float]] = Field(default_factory=dict)  # metric → case → score
    latencies_ms: list[float] = Field(default_factory=list)
    success_by_turn: list[float] = Field(default_factory=list)
    curves: dict[str, list[list[float]]] = Field(default_factory=dict)  # series → [x, y] points
    worst: list[WorstCase] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    seconds: float = 0.0
    detail: dict = Field(default_factory=dict)  # the suite's own full report

    @property
    def key(self) -> str:
        return f"{self.suite} · {self.set}"


class Delta(BaseModel):
    suite: str
    set: str
    metric: str
    reference: str  # "baseline <file> (<config>)" or the first configuration
    candidate: str
    before: float
    after: float
    delta: float
    low: float | None = None  # 95 % paired-bootstrap interval of the delta
    high: float | None = None
    cases: int = 0
    better: bool | None = None  # None: the interval includes 0 (or no per-case scores)


class EvalRun(BaseModel):
    started: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    seconds: float = 0.0
    command: str = ""
    index: str = ""
    configs: list[str] = Field(default_factory=list)
    results: list[SuiteResult] = Field(default_factory=list)
    deltas: list[Delta] = Field(default_factory=list)
    gates: list[str] = Field(default_factory=list)  # "metric >= value: passed/FAILED (...)"


# ---- comparisons --------------------------------------------------------------------------
def paired_bootstrap(
    a: dict[str, float], b: dict[str, float], resamples: int = 2000, seed: int = 0
) -> tuple[float, float, float, int]:
    """(mean of b − a, 2.5th and 97.5th percentile of the resampled mean) over the cases
    both have: a case's two scores stay together, so case difficulty cancels out."""
    common = sorted(set(a) & set(b))
    if not common:
        return 0.0, 0.0, 0.0, 0
    diff = np.array([b[c] - a[c] for c in common], dtype=float)
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, len(diff), size=(resamples, len(diff)))].mean(axis=1)
    return (
        float(diff.mean()),
        float(np.percentile(means, 2.5)),
        float(np.percentile(means, 97.5)),
        len(common),
    )


def compare(reference: SuiteResult, candidate: SuiteResult, label: str) -> list[Delta]:
    out = []
    for metric, after in candidate.headline.items():
        if metric not in reference.headline:
            continue
        before = reference.headline[metric]
        d = Delta(
            suite=candidate.suite,
            set=candidate.set,
            metric=metric,
            reference=label,
            candidate=candidate.config,
            before=before,
            after=after,
            delta=round(after - before, 4),
        )
        a, b = reference.per_case.get(metric), candidate.per_case.get(metric)
        if a and b:
            mean, low, high, n = paired_bootstrap(a, b)
            # over the cases both ran: the interval's own centre (equal to after − before
            # when they ran the same cases)
            d.delta, d.low, d.high, d.cases = round(mean, 4), round(low, 4), round(high, 4), n
            if low > 0 or high < 0:
                up = low > 0
                d.better = not up if LOWER_IS_BETTER.search(metric) else up
        out.append(d)
    return out


def compare_configs(results: list[SuiteResult]) -> list[Delta]:
    """Each configuration after the first against the first, suite by suite."""
    out = []
    first: dict[str, SuiteResult] = {}
    for r in results:
        ref = first.setdefault(r.key, r)
        if ref is not r:
            out += compare(ref, r, ref.config)
    return out


def compare_baseline(results: list[SuiteResult], baseline: EvalRun, name: str) -> list[Delta]:
    """Against the baseline's result for the same suite and set: the same configuration's
    if it ran one, else its only one."""
    out = []
    for r in results:
        same = [b for b in baseline.results if b.key == r.key]
        ref = next((b for b in same if b.config == r.config), same[0] if len(same) == 1 else None)
        if ref is not None:
            out += compare(ref, r, f"baseline {name} ({ref.config})")
    return out


def load_run(path: Path) -> EvalRun:
    try:
        return EvalRun.model_validate_json(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"--baseline {path}: no such file") from None
    except ValueError as exc:
        raise ValueError(f"--baseline {path}: not an `aisle eval` report.json ({exc})") from None


# ---- gates --------------------------------------------------------------------------------
GATE = re.compile(r"^\s*(?:(?P<suite>[a-z]+)\.)?(?P<metric>.+?)\s*=\s*(?P<value>[-+0-9.eE]+)\s*$")


def parse_gate(text: str) -> tuple[str | None, str, float]:
    m = GATE.match(text)
    if not m:
        raise ValueError(
            f"--fail-under {text!r}: write METRIC=VALUE or SUITE.METRIC=VALUE "
            "(e.g. simulate.success@5=0.8)"
        )
    return m.group("suite"), m.group("metric").strip(), float(m.group("value"))


def check_gates(results: list[SuiteResult], gates: list[str]) -> tuple[list[str], bool]:
    """Lines saying how each gate went, and whether all passed. A gate no result has a
    metric for is an error that lists the metrics there are."""
    lines, ok = [], True
    for text in gates:
        suite, metric, value = parse_gate(text)
        hits = [
            (r, r.headline[metric])
            for r in results
            if metric in r.headline and (suite is None or r.suite == suite)
        ]
        if not hits:
            known = sorted({f"{r.suite}.{m}" for r in results for m in r.headline})
            raise ValueError(
                f"--fail-under {text!r}: no suite that ran reports it ({', '.join(known)})"
            )
        for r, got in hits:
            lower = bool(LOWER_IS_BETTER.search(metric))
            passed = got <= value if lower else got >= value
            ok &= passed
            sign = "<=" if lower else ">="
            lines.append(
                f"{r.suite}.{metric} {sign} {value:g} [{r.config}, {r.set}]: "
                f"{'passed' if passed else 'FAILED'} ({got:.4g})"
            )
    return lines, ok


# ---- files --------------------------------------------------------------------------------
def write(run: EvalRun, folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    js, page = folder / "report.json", folder / "report.html"
    js.write_text(run.model_dump_json(indent=2), encoding="utf-8")
    page.write_text(render_html(run), encoding="utf-8")
    return js, page


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return (
        f'<img alt="plot" src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}">'
    )


# Long: one figure after another, each a few lines of matplotlib in the report's order.
def _plots(run: EvalRun) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = []
    suites = list(dict.fromkeys(r.suite for r in run.results))
    panels = []
    for suite in suites:  # one panel a suite: its share metrics, a bar per catalog · config
        rows = [r for r in run.results if r.suite == suite]
        metrics = [
            m
            for m in dict.fromkeys(m for r in rows for m in r.headline)
            if all(0.0 <= r.headline.get(m, 0.0) <= 1.0 for r in rows)
            and not LOWER_IS_BETTER.search(m)
            and " ndcg@10" not in m  # the per-signal rows: in the table
            and m not in COUNTS
        ][:7]
        if metrics:
            panels.append((suite, rows, metrics))
    if panels:
        cols = min(3, len(panels))
        n_rows = (len(panels) + cols - 1) // cols
        fig, axes = plt.subplots(n_rows, cols, figsize=(5.2 * cols, 3.4 * n_rows), squeeze=False)
        for ax in axes.flat[len(panels) :]:
            ax.axis("off")
        for ax, (suite, rows, metrics) in zip(axes.flat, panels, strict=False):
            width = 0.8 / len(rows)
            for i, r in enumerate(rows):
                ys = [j + i * width for j in range(len(metrics))]
                ax.barh(
                    ys,
                    [r.headline.get(m, 0.0) for m in metrics],
                    height=width,
                    label=_label(r),
                )
            ax.set_yticks([j + 0.4 - width / 2 for j in range(len(metrics))], metrics, fontsize=7)
            ax.invert_yaxis()
            ax.set_xlim(0, 1)
            ax.set_title(suite, fontsize=9)
            ax.tick_params(labelsize=7)
            ax.legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3)
        fig.tight_layout()
        out.append(("Metrics by suite, catalog and configuration", _png(fig)))
    timed = [r for r in run.results if r.latencies_ms]
    if timed:
        fig, ax = plt.subplots(figsize=(min(2 + 1.4 * len(timed), 14), 3.4))
        ax.boxplot(
            [r.latencies_ms for r in timed],
            tick_labels=[f"{r.suite}\n{_label(r)}" for r in timed],
            showfliers=True,
        )
        ax.set_ylabel("ms")
        ax.set_yscale("log")
        ax.tick_params(labelsize=7)
        out.append(("Latency per turn or query", _png(fig)))
    curves = [r for r in run.results if r.success_by_turn]
    if curves:
        fig, ax = plt.subplots(figsize=(6, 3.4))
        for r in curves:
            xs = list(range(1, len(r.success_by_turn) + 1))
            ax.plot(xs, r.success_by_turn, marker="o", label=_label(r))
        ax.set_xlabel("turn")
        ax.set_xticks(range(1, max(len(r.success_by_turn) for r in curves) + 1))
        ax.set_ylabel("found what they wanted (share)")
        ax.set_ylim(0, 1.02)
        ax.legend(fontsize=7)
        out.append(("Simulated shoppers: success by turn", _png(fig)))
    learning = [r for r in run.results if r.curves]
    for r in learning:  # the ranker's learning curve: metric against sessions of log
        fig, ax = plt.subplots(figsize=(6, 3.4))
        colours: dict[str, str] = {}  # one colour a metric: with events solid, without dashed
        for series, points in r.curves.items():
            xs = [max(x, 1.0) for x, _ in points]  # 0 sessions drawn at 1 on the log axis
            style = "-" if "with events" in series else "--"
            metric = series.split(" · ")[0]
            colour = colours.setdefault(metric, f"C{len(colours)}")
            ax.plot(xs, [y for _, y in points], style, color=colour, marker="o", label=series)
        ax.set_xscale("log")
        ax.set_xlabel("sessions of event log (0 drawn at 1)")
        ax.set_ylabel("NDCG@10 on held-out sessions")
        ax.legend(fontsize=7)
        out.append((f"Learning curve: {_label(r)}", _png(fig)))
    return out


COUNTS = {"empty turns", "impressions"}  # numbers of things, not shares: tables only


def _label(r: SuiteResult) -> str:
    return r.set if r.config == r.set else f"{r.set} · {r.config}"


def _fmt(v: float | None, metric: str = "") -> str:
    if v is None:
        return ""
    counts = ("empty turns", "chat much worse", "chat starved")
    if abs(v) >= 100 or metric.endswith(("ms", "impressions")) or metric in counts:
        return f"{v:.0f}"
    return f"{v:.3f}"


def render_html(run: EvalRun) -> str:
    e = html.escape
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>Aisle eval report</title>",
        "<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:1200px}"
        "table{border-collapse:collapse;margin:.6em 0 1.4em}td,th{border:1px solid #ccc;"
        "padding:3px 7px;text-align:right}th{background:#f1f3f6}td:first-child,th:first-child"
        "{text-align:left}.better{background:#dff3e0}.worse{background:#fbe1e1}"
        ".failed{color:#b00;font-weight:600}.note{color:#555}img{max-width:100%}</style>",
        "</head><body><h1>Aisle eval report</h1>",
        f"<p class='note'>{e(run.started)} · {run.seconds:.0f} s · index {e(run.index)}<br>"
        f"<code>{e(run.command)}</code></p>",
    ]
    if run.gates:
        parts.append("<h2>Gates</h2><ul>")
        parts += [f"<li class='{'failed' if 'FAILED' in g else ''}'>{e(g)}</li>" for g in run.gates]
        parts.append("</ul>")
    parts.append("<h2>Headline</h2>")
    for key in dict.fromkeys(r.key for r in run.results):
        rows = [r for r in run.results if r.key == key]
        metrics = list(dict.fromkeys(m for r in rows for m in r.headline))
        parts.append(f"<h3>{e(key)}</h3><table><tr><th>configuration</th>")
        parts += [f"<th>{e(m)}</th>" for m in metrics] + ["<th>seconds</th></tr>"]
        for r in rows:
            parts.append(f"<tr><td>{e(r.config)}</td>")
            parts += [f"<td>{_fmt(r.headline.get(m), m)}</td>" for m in metrics]
            parts.append(f"<td>{r.seconds:.0f}</td></tr>")
        parts.append("</table>")
        for r in rows:
            parts += [f"<p class='note'>{e(r.config)}: {e(n)}</p>" for n in r.notes]
    if run.deltas:
        parts.append(
            "<h2>Comparisons</h2><p class='note'>candidate − reference; 95 % paired-bootstrap "
            "interval over the cases both ran (green: better beyond noise, red: worse)</p>"
            "<table><tr><th>suite · set</th><th>metric</th><th>reference</th><th>candidate</th>"
            "<th>before</th><th>after</th><th>delta</th><th>95 % interval</th><th>cases</th></tr>"
        )
        for d in run.deltas:
            cls = "" if d.better is None else ("better" if d.better else "worse")
            ci = f"[{d.low:+.3f}, {d.high:+.3f}]" if d.low is not None else "no per-case scores"
            parts.append(
                f"<tr class='{cls}'><td>{e(d.suite)} · {e(d.set)}</td><td>{e(d.metric)}</td>"
                f"<td>{e(d.reference)}</td><td>{e(d.candidate)}</td><td>{_fmt(d.before)}</td>"
                f"<td>{_fmt(d.after)}</td><td>{d.delta:+.3f}</td><td>{ci}</td><td>{d.cases}</td></tr>"
            )
        parts.append("</table>")
    for title, img in _plots(run):
        parts.append(f"<h2>{e(title)}</h2>{img}")
    worst = [r for r in run.results if r.worst]
    if worst:
        parts.append("<h2>Worst cases</h2>")
        for r in worst:
            parts.append(
                f"<h3>{e(r.key)} · {e(r.config)}</h3><table><tr><th>case</th><th>asked</th>"
                "<th>shown</th><th>expected</th><th>what went wrong</th></tr>"
            )
            for w in r.worst:
                shown = "<br>".join(e(s) for s in w.shown[:5]) or "(nothing)"
                parts.append(
                    f"<tr><td>{e(w.id)}</td><td style='text-align:left'>{e(w.asked)}</td>"
                    f"<td style='text-align:left'>{shown}</td><td style='text-align:left'>"
                    f"{e(w.expected)}</td><td style='text-align:left'>{e(w.note)}</td></tr>"
                )
            parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def headline_table(run: EvalRun) -> str:
    """The run as a Markdown table (printed at the end, pasted into the README)."""
    lines = []
    for key in dict.fromkeys(r.key for r in run.results):
        rows = [r for r in run.results if r.key == key]
        metrics = [m for m in dict.fromkeys(m for r in rows for m in r.headline)][:9]
        lines.append(f"\n{key}\n")
        lines.append("| configuration | " + " | ".join(metrics) + " | s |")
        lines.append("|---" * (len(metrics) + 2) + "|")
        for r in rows:
            cells = [_fmt(r.headline.get(m), m) for m in metrics]
            lines.append(f"| {r.config} | " + " | ".join(cells) + f" | {r.seconds:.0f} |")
    return "\n".join(lines)


def save_json(obj, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2))
