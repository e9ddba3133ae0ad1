"""The explanation eval: are the reasons a shopper reads true, about what they asked, and
different from each other — and how soon do they arrive?

It runs the real assistant on the eval set's judged queries (each a one-turn conversation)
and its scripted dialogues (turn by turn), or on a shop's own `--judged` / `--script` files,
and scores every product reply:

- unsupported: the share of reasons whose product line states a fact the catalog does not
  hold for that product (the fact checker, assistant/grounding.py); target 0;
- stated need: of the reasons whose product has a catalog fact for something the shopper
  stated (a value the filters enforce, or a word of the need), the share that name one of
  those needs as met — "nothing listed about X" does not count; target ≥ 90 %;
- repeated: the share of replies in which two products get the same reason; target 0;
- time to the first token (the reply's first line), to the first reason, and to the full
  reply, in ms, with the backend that wrote the reasons (rules or the LLM).

The needs are read from the dialogue state and the facts from the catalog, independently of
how the reasons were written, so an LLM writer and the catalog realiser are scored alike."""

from __future__ import annotations

import re
import statistics
import time
from pathlib import Path

from pydantic import BaseModel, Field

from assistant.explain import needs_of, product_facts, speaks_of
from assistant.grounding import DENIED, check_reply
from assistant.pipeline import Assistant
from base.language.text import words

from ..jsonl import read_jsonl
from ..report import SuiteResult, WorstCase
from ..sets import EvalSet


class ExplainReport(BaseModel):
    conversations: int = 0
    replies: int = 0
    reasons: int = 0
    unsupported: int = 0
    need_cases: int = 0  # reasons whose product has a fact for a stated need
    need_named: int = 0
    repeated_replies: int = 0
    by_llm: int = 0  # replies whose reasons the LLM wrote
    first_token_ms: list[float] = Field(default_factory=list)
    first_reason_ms: list[float] = Field(default_factory=list)
    reply_ms: list[float] = Field(default_factory=list)
    per_case: dict[str, dict[str, float]] = Field(default_factory=dict)
    worst: list[WorstCase] = Field(default_factory=list)


def conversations(
    eval_set: EvalSet | None,
    split: str,
    judged: Path | None,
    script: Path | None,
    facet_keys: list[str],
) -> list[tuple[str, list[str]]]:
    """(id, the shopper's messages) for every judged query and scripted dialogue
    (`facet_keys`: the catalog's, which a script's expectations are read against)."""
    from .dialogues import load_dialogues, load_script

    out: list[tuple[str, list[str]]] = []
    splits = ["dev", "test"] if split == "all" else [split]
    files = (
        [judged]
        if judged
        else [eval_set.file(f"judged-{s}.jsonl") for s in splits]
        if (eval_set)
        else []
    )
    queries: dict[str, str] = {}
    for path in files:
        if path and path.is_file():
            for qid, query in read_jsonl(path, _query, "judged pairs"):
                queries.setdefault(qid, query)
    out += [(f"query {qid}", [q]) for qid, q in queries.items()]
    if script:
        dialogues = load_script(script, facet_keys)
    elif eval_set and eval_set.has("dialogues.jsonl"):
        dialogues = load_dialogues(eval_set, split, ("dialogues.jsonl",))
    else:
        dialogues = []
    out += [(f"dialogue {d.id}", [t.text for t in d.turns]) for d in dialogues]
    return out


def _query(row, _number: int) -> tuple[str, str]:
    if not isinstance(row, dict) or not str(row.get("query", "")).strip():
        raise ValueError('a judged pair needs a "query"')
    return str(row.get("query_id") or row["query"]), str(row["query"])


def evaluate(bot: Assistant, convs: list[tuple[str, list[str]]]) -> ExplainReport:
    report = ExplainReport(conversations=len(convs))
    cases: dict[str, dict[str, float]] = {"unsupported": {}, "stated need": {}, "repeated": {}}
    for n, (case, messages) in enumerate(convs):
        session = f"explain-eval-{n}"
        bot.reset(session)
        for t, message in enumerate(messages, 1):
            stamps: list[float] = []
            started = time.perf_counter()
            reply = bot.respond(
                session, message, on_token=lambda _, s=stamps: s.append(time.perf_counter())
            )
            done = time.perf_counter()
            if not reply.explanations:
                continue
            report.replies += 1
            report.by_llm += reply.reasons_by_llm
            report.reply_ms.append((done - started) * 1000)
            if stamps:
                report.first_token_ms.append((stamps[0] - started) * 1000)
                report.first_reason_ms.append(((stamps[1:] or stamps)[0] - started) * 1000)
            scores = _score(bot, reply)
            report.reasons += scores["reasons"]
            report.unsupported += scores["unsupported"]
            report.need_cases += scores["need_cases"]
            report.need_named += scores["need_named"]
            report.repeated_replies += scores["repeated"]
            key = f"{case} turn {t}"
            cases["unsupported"][key] = scores["unsupported"] / max(1, scores["reasons"])
            cases["repeated"][key] = float(scores["repeated"])
            if scores["need_cases"]:
                cases["stated need"][key] = scores["need_named"] / scores["need_cases"]
            if scores["unsupported"] or scores["repeated"] or scores["unnamed"]:
                report.worst.append(
                    WorstCase(
                        id=key,
                        asked=message,
                        shown=reply.reasons,
                        expected="needs: " + ", ".join(scores["needs"]),
                        note="; ".join(scores["problems"])[:300],
                    )
                )
        bot.reset(session)
    report.per_case = cases
    report.worst = report.worst[:10]
    return report


def _score(bot: Assistant, reply) -> dict:
    needs = [x for x in needs_of(reply.state, bot.parts.lexicon) if x.kind in ("word", "value")]
    lines = {
        int(m.group(1)): ln for ln in reply.text.splitlines() if (m := re.match(r"\[(\d+)\]", ln))
    }
    out = {"reasons": 0, "unsupported": 0, "need_cases": 0, "need_named": 0, "unnamed": 0}
    problems: list[str] = []
    for i, (item, reason) in enumerate(zip(reply.products, reply.reasons, strict=False), 1):
        out["reasons"] += 1
        errors = check_reply(
            lines.get(i, reason), reply.products, reply.state.filters, bot.parts.lexicon
        )
        if errors:
            out["unsupported"] += 1
            problems.append(f"[{i}] " + ", ".join(f"{e.claim} ({e.reason})" for e in errors))
        facts = " ".join(f.text for f in product_facts(item))
        said = DENIED.sub(" ", reason)
        has = [
            x for x in needs if x.kind == "value" or speaks_of(x.label, facts, bot.parts.lexicon)
        ]
        if has:
            out["need_cases"] += 1
            named = any(_names(x, said, bot) for x in has)
            out["need_named"] += named
            if not named:
                out["unnamed"] += 1
                problems.append(f"[{i}] names none of: {', '.join(x.label for x in has)}")
    out["repeated"] = int(len(set(reply.reasons)) < len(reply.reasons))
    if out["repeated"]:
        problems.append("two products share a reason")
    out["needs"] = [x.label for x in needs]
    out["problems"] = problems
    return out


def _names(need, text: str, bot: Assistant) -> bool:
    if need.kind == "value":
        said = set(words(text))
        return any(set(words(v)) <= said for v in need.values)
    return speaks_of(need.label, text, bot.parts.lexicon)


def _p50(xs: list[float]) -> float | None:
    return round(statistics.median(xs), 1) if xs else None


def _p95(xs: list[float]) -> float | None:
    if not xs:
        return None
    return round(sorted(xs)[min(len(xs) - 1, int(0.95 * len(xs)))], 1)


def suite_result(
    report: ExplainReport, config: str, set_name: str, backend: str, seconds: float
) -> SuiteResult:
    r = report
    headline = {
        "reasons with an unsupported fact": r.unsupported / max(1, r.reasons),
        "reasons naming a stated need": r.need_named / max(1, r.need_cases),
        "replies with a repeated reason": r.repeated_replies / max(1, r.replies),
        "first token ms p50": _p50(r.first_token_ms),
        "first reason ms p50": _p50(r.first_reason_ms),
        "reply ms p50": _p50(r.reply_ms),
        "reply ms p95": _p95(r.reply_ms),
        "replies": float(r.replies),
    }
    notes = [
        f"reasons written by: {backend} ({r.by_llm} of {r.replies} replies by the LLM)",
        f"{r.conversations} conversations, {r.reasons} reasons; {r.need_cases} of them "
        "for products with a catalog fact for a stated need",
        "targets: unsupported 0, stated need ≥ 0.90, repeated 0",
    ]
    return SuiteResult(
        suite="explain",
        config=config,
        set=set_name,
        headline={k: v for k, v in headline.items() if v is not None},
        per_case=r.per_case,
        latencies_ms=r.reply_ms,
        worst=r.worst,
        notes=notes,
        seconds=round(seconds, 1),
        detail=r.model_dump(exclude={"per_case", "worst"}),
    )
