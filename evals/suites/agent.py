"""`aisle eval agent`: suggested replies on customer conversations written for this
project (`evals/agent/conversations.jsonl`: returns, shipping, sizing, care, complaints,
payment, order changes, product questions, recommendations, mixed, unanswerable and
injection attempts). Odd ids are dev, even ids test.

Per model: the share of conversations whose suggestions contain every required fact (a
number such as "30 days" must be stated as such; "@<word>": a suggestion rests on a
product whose name or category says <word>; "__check__": the reply says the agent will
check instead of guessing), the share of suggestions stating any fact the policies and
the products they rest on do not support (or a listed wrong one such as "60 days"), and
latency per conversation.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from assistant.agent.conversation import Message
from assistant.agent.policy_facts import check_facts, facts_in
from assistant.agent.suggest import WILL_CHECK, AgentAssistant, Suggestions
from assistant.config import Settings
from assistant.pipeline import Assistant
from retrieval.text_embedder import product_text

from ..jsonl import read_jsonl
from ..report import SuiteResult, WorstCase

CASES = Path(__file__).parents[1] / "agent" / "conversations.jsonl"


class Case(BaseModel):
    id: str
    kind: str
    messages: list[Message]
    required: list[str]
    must_not: list[str] = []

    @property
    def split(self) -> str:
        digits = "".join(ch for ch in self.id if ch.isdigit())
        return ("dev" if int(digits) % 2 else "test") if digits else "dev"


class AgentReport(BaseModel):
    model: str
    split: str
    conversations: int
    suggestions: int
    with_required: float
    with_bad_fact: float
    llm_written: float
    latency_p50_ms: float
    latency_p95_ms: float
    failures: list[str]
    source: str = "project"
    per_required: dict[str, float] = {}
    per_bad: dict[str, float] = {}
    latencies: list[float] = []


def suite_result(report: AgentReport, seconds: float) -> SuiteResult:
    return SuiteResult(
        suite="agent",
        config=report.model,
        set=Path(report.source).name if report.source != "project" else "agent conversations",
        headline={
            "with every required fact": report.with_required,
            "suggestions with unsupported facts": report.with_bad_fact,
            "written by the LLM": report.llm_written,
            "latency p50 ms": report.latency_p50_ms,
            "latency p95 ms": report.latency_p95_ms,
        },
        per_case={
            "with every required fact": report.per_required,
            "suggestions with unsupported facts": report.per_bad,
        },
        latencies_ms=report.latencies,
        worst=[WorstCase(id=f.split(" ")[0], asked="", note=f) for f in report.failures[:10]],
        seconds=round(seconds, 1),
        detail=report.model_dump(exclude={"per_required", "per_bad", "latencies"}),
    )


def load_cases(split: str, path: Path | None = None) -> list[Case]:
    """The project's cases by split, or all of a shop's own file (`path`), whose bad lines
    are named together."""

    def case(row, number: int) -> Case:
        if isinstance(row, dict) and not row.get("id"):
            row["id"] = f"line{number}"
        return Case.model_validate(row)

    cases = read_jsonl(Path(path) if path else CASES, case, "conversations file")
    if path:
        return cases
    return [c for c in cases if split == "all" or c.split == split]


def has_required(item: str, result: Suggestions) -> bool:
    texts = [s.text for s in result.suggestions]
    if item == "__check__":
        return any(t == WILL_CHECK for t in texts)
    if item.startswith("@"):
        word = item[1:].casefold()
        return any(word in p.title.casefold() for s in result.suggestions for p in s.products)
    wanted = facts_in(item)
    if wanted:
        stated = set().union(*(facts_in(t) for t in texts))
        return wanted <= stated
    return any(item.casefold() in t.casefold() for t in texts)


def bad_facts(result: Suggestions, policy_texts: list[str], index, case: Case) -> list[str]:
    out = []
    for s in result.suggestions:
        sources = list(policy_texts)
        for card in s.products:
            if product := index.product(card.product_id):
                sources += [product_text(product), f"${product.price}"]
        problems = [f"{s.direction}: {p.fact} ({p.reason})" for p in check_facts(s.text, sources)]
        problems += [
            f"{s.direction}: says {w!r}" for w in case.must_not if w.casefold() in s.text.casefold()
        ]
        out += problems
    return out


def evaluate(
    settings: Settings,
    split: str,
    model: str | None,
    conversations: Path | None = None,
    use_llm: bool | None = None,
    config_name: str | None = None,
) -> AgentReport:
    """`conversations`: a shop's own cases (same format) instead of the project's."""
    cases = load_cases(split, conversations)
    bot = Assistant(
        settings.with_overrides(llm_model=model),
        use_llm=model is not None if use_llm is None else use_llm,
    )
    agent = AgentAssistant(bot.live)
    policy_texts = [p.text for p in agent.policies.passages] if agent.policies.exists() else []
    required_ok, bad, n_suggestions, llm, latencies, failures = 0, 0, 0, 0, [], []
    per_required, per_bad = {}, {}
    for case in cases:
        result = agent.suggest(case.messages)
        latencies.append(result.latency_ms)
        missing = [r for r in case.required if not has_required(r, result)]
        required_ok += not missing
        problems = bad_facts(result, policy_texts, bot.parts.index, case)
        bad_suggestions = {p.split(":")[0] for p in problems}
        per_required[case.id] = float(not missing)
        per_bad[case.id] = float(bool(problems))
        bad += len(bad_suggestions)
        n_suggestions += len(result.suggestions)
        llm += sum(s.source == "llm" for s in result.suggestions)
        if missing or problems:
            failures.append(f"{case.id} ({case.kind}): missing {missing} {problems[:2]}")
    n = max(len(cases), 1)
    return AgentReport(
        model=config_name or model or "no LLM (facts only)",
        source=str(conversations) if conversations else "project",
        per_required=per_required,
        per_bad=per_bad,
        latencies=latencies,
        split=split,
        conversations=len(cases),
        suggestions=n_suggestions,
        with_required=required_ok / n,
        with_bad_fact=bad / max(n_suggestions, 1),
        llm_written=llm / max(n_suggestions, 1),
        latency_p50_ms=float(np.percentile(latencies, 50)) if latencies else 0.0,
        latency_p95_ms=float(np.percentile(latencies, 95)) if latencies else 0.0,
        failures=failures,
    )


def print_reports(reports: list[AgentReport]) -> None:
    print(
        f"{'model':24} {'convs':>5} {'required':>9} {'bad facts':>9} {'by LLM':>7} "
        f"{'p50 ms':>8} {'p95 ms':>8}"
    )
    for r in reports:
        print(
            f"{r.model:24} {r.conversations:>5} {r.with_required:>9.3f} {r.with_bad_fact:>9.3f} "
            f"{r.llm_written:>7.2f} {r.latency_p50_ms:>8.0f} {r.latency_p95_ms:>8.0f}"
        )
    for r in reports:
        for f in r.failures[:8]:
            print(f"  {r.model}: {f}")


def save(reports: list[AgentReport], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([r.model_dump() for r in reports], indent=2))
