"""`aisle eval dialogues` (and `aisle eval nlu`): a set's scripted dialogues run through the
real pipeline on the set's catalog, one shopper per dialogue.

Per turn, the set says the intent, the slots the reading should find (in the vocabulary of
`TurnInterpretation.slots()`), and — in `dialogues.jsonl` — what every product shown must
satisfy (`expect`, criteria as in evals/criteria.py) or that none may be shown (`"shows":
"none"`, e.g. a kind the shop does not sell). Reported: the share of turns and of dialogues
with zero violating products, each violation, intent accuracy, slot precision/recall/F1,
values the reader gave that the shopper never said, the share of turns the rules served
without the LLM, and latency. Replies are built from facts (the writer's LLM is off): this
measures understanding and constraint keeping, not wording."""

from __future__ import annotations

import json
import statistics
import time
from collections import Counter
from pathlib import Path

from pydantic import BaseModel, Field

from assistant.config import Settings
from assistant.pipeline import Assistant

from .criteria import Criteria
from .sets import EvalSet, load_set


class TurnCase(BaseModel):
    text: str
    intent: str
    slots: dict = Field(default_factory=dict)
    expect: list[str] | None = None
    shows: str | None = None  # "none": no product may be shown

    def expected(self) -> set[tuple[str, str]]:
        out = set()
        for name, value in self.slots.items():
            values = value if isinstance(value, list) else [value]
            for v in values:
                if isinstance(v, bool):
                    out.add((name, str(v).casefold()))
                elif isinstance(v, float | int) and name != "references":
                    out.add((name, f"{v:g}"))
                else:
                    out.add((name, str(v).casefold()))
        return out


class Dialogue(BaseModel):
    id: str
    split: str = ""
    turns: list[TurnCase]


def load_dialogues(es: EvalSet, split: str, files: tuple[str, ...]) -> list[Dialogue]:
    out = []
    for name in files:
        if not es.has(name):
            continue
        for number, line in enumerate(es.file(name).read_text().splitlines(), 1):
            if not line.strip():
                continue
            try:
                d = Dialogue.model_validate_json(line)
            except ValueError as exc:
                raise ValueError(f"{es.folder / name} line {number}: {exc}") from None
            if split == "all" or d.split == split:
                out.append(d)
    return out


class DialogueReport(BaseModel):
    set: str
    config: str
    split: str
    dialogues: int
    turns: int
    intent_accuracy: float
    slot_precision: float
    slot_recall: float
    slot_f1: float
    per_slot: dict[str, dict[str, float]]
    invented_values: int
    rules_alone_share: float  # turns the deterministic reading served without the LLM
    llm_invented_dropped: int
    checked_turns: int  # turns with an expectation about the products shown
    zero_violation_turns: float
    zero_violation_dialogues: float
    empty_turns: int  # turns that expected products and showed none (a miss, not a violation)
    violations: list[dict]
    turn_ms_p50: float
    turn_ms_p95: float
    errors: list[dict]


def _slot_type(slot: str) -> str:
    return slot.split(".")[0]


def evaluate(
    settings: Settings,
    eval_set: EvalSet | str,
    split: str,
    model: str | None,
    force_llm: bool = False,
    files: tuple[str, ...] = ("dialogues.jsonl", "nlu.jsonl"),
) -> DialogueReport:
    """`model` None: the deterministic reading alone."""
    es = load_set(eval_set) if isinstance(eval_set, str) else eval_set
    config = settings.with_overrides(llm_model=model) if model else settings
    assistant = Assistant(config, use_llm=model is not None)
    assistant.writer.llm = None  # understanding only; replies from facts
    assistant.interpreter.always = force_llm
    keys = [f.key for f in assistant.lexicon.facets.values()]
    tp, fp, fn = Counter(), Counter(), Counter()
    intents_ok = total = invented = alone = dropped = checked = clean = empty = 0
    latencies, errors, violations = [], [], []
    dialogues = load_dialogues(es, split, files)
    clean_dialogues = 0
    for dialogue in dialogues:
        session = f"{dialogue.id}-{time.monotonic_ns()}"
        ok_dialogue = True
        for case in dialogue.turns:
            before = assistant.state(session)
            t0 = time.perf_counter()
            reply = assistant.respond(session, case.text)
            latencies.append((time.perf_counter() - t0) * 1000)
            turn = reply.interpretation
            alone += turn.certain  # the deterministic reading accounted for every word
            dropped += reply.llm_invented
            got, want = turn.slots(), case.expected()
            total += 1
            answered = turn.intent == "clarify_answer" and case.intent == "refine" and before.asked
            intents_ok += turn.intent == case.intent or bool(answered)
            for slot, _ in got & want:
                tp[_slot_type(slot)] += 1
            for slot, value in got - want:
                fp[_slot_type(slot)] += 1
                invented += not _grounded(value, case.text, assistant)
            for slot, _ in want - got:
                fn[_slot_type(slot)] += 1
            if (turn.intent != case.intent and not answered) or got != want:
                errors.append(
                    {
                        "dialogue": dialogue.id,
                        "text": case.text,
                        "intent": [turn.intent, case.intent],
                        "extra": sorted(got - want),
                        "missing": sorted(want - got),
                    }
                )
            if case.expect is None and case.shows is None:
                continue
            checked += 1
            criteria = Criteria(case.expect or [], keys)
            bad = [i.product for i in reply.products if not criteria.satisfied_by(i.product)]
            if case.shows == "none" and reply.products:
                bad = [i.product for i in reply.products]
            if (
                case.expect
                and case.shows != "none"
                and not reply.products
                and turn.intent in ("search", "refine", "clarify_answer")
            ):
                empty += 1
            if bad:
                ok_dialogue = False
                violations.append(
                    {
                        "dialogue": dialogue.id,
                        "text": case.text,
                        "expect": case.expect,
                        "shows": case.shows,
                        "violating": [f"{p.id} {p.title}" for p in bad],
                    }
                )
            else:
                clean += 1
        clean_dialogues += ok_dialogue
    per_slot = {}
    for slot in sorted(set(tp) | set(fp) | set(fn)):
        p = tp[slot] / (tp[slot] + fp[slot]) if tp[slot] + fp[slot] else 1.0
        r = tp[slot] / (tp[slot] + fn[slot]) if tp[slot] + fn[slot] else 1.0
        per_slot[slot] = {
            "precision": round(p, 3),
            "recall": round(r, 3),
            "support": tp[slot] + fn[slot],
        }
    TP, FP, FN = sum(tp.values()), sum(fp.values()), sum(fn.values())
    precision = TP / (TP + FP) if TP + FP else 1.0
    recall = TP / (TP + FN) if TP + FN else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    latencies.sort()
    n = max(total, 1)
    return DialogueReport(
        set=es.name,
        config=(model or "rules only") + (" (LLM every turn)" if force_llm else ""),
        split=split,
        dialogues=len(dialogues),
        turns=total,
        intent_accuracy=round(intents_ok / n, 3),
        slot_precision=round(precision, 3),
        slot_recall=round(recall, 3),
        slot_f1=round(f1, 3),
        per_slot=per_slot,
        invented_values=invented,
        rules_alone_share=round(alone / n, 3),
        llm_invented_dropped=dropped,
        checked_turns=checked,
        zero_violation_turns=round(clean / checked, 3) if checked else 1.0,
        zero_violation_dialogues=round(clean_dialogues / len(dialogues), 3) if dialogues else 1.0,
        empty_turns=empty,
        violations=violations,
        turn_ms_p50=round(statistics.median(latencies), 1) if latencies else 0.0,
        turn_ms_p95=round(latencies[int(0.95 * (len(latencies) - 1))], 1) if latencies else 0.0,
        errors=errors,
    )


def _grounded(value: str, text: str, assistant: Assistant) -> bool:
    """Could this value have come from the shopper's words? (catalog readings of the
    words, numbers said, references and removals are checked by the readers)."""
    from assistant.understanding.words import phrase_terms, tokenize

    said = set(phrase_terms(text))
    if set(phrase_terms(value)) <= said | {"true"}:
        return True
    readings = {
        r.value.casefold() for s in assistant.words.match(tokenize(text)) for r in s.readings
    }
    numbers = [float(x) for x in __import__("re").findall(r"\d+(?:\.\d+)?", text)]
    try:
        v = float(value)
        return any(abs(v - x) <= 0.2 * x + 0.01 for x in numbers)
    except ValueError:
        return value.casefold() in readings


def print_reports(reports: list[DialogueReport]) -> None:
    print(
        "| set | config | split | turns | intent acc | slot P | slot R | slot F1 | invented | "
        "rules alone | turns with 0 violations | dialogues with 0 violations | empty | "
        "turn p50 / p95 ms |"
    )
    print("|---" * 14 + "|")
    for r in reports:
        print(
            f"| {r.set} | {r.config} | {r.split} | {r.turns} | {r.intent_accuracy:.3f} | "
            f"{r.slot_precision:.3f} | {r.slot_recall:.3f} | {r.slot_f1:.3f} | "
            f"{r.invented_values} | {r.rules_alone_share:.0%} | "
            f"{r.zero_violation_turns:.3f} ({r.checked_turns}) | "
            f"{r.zero_violation_dialogues:.3f} | {r.empty_turns} | "
            f"{r.turn_ms_p50:.0f} / {r.turn_ms_p95:.0f} |"
        )
    for r in reports:
        for v in r.violations:
            print(f"  violation [{r.set} {v['dialogue']}] {v['text']!r}: {v['violating'][:3]}")


def save(reports: list[DialogueReport], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([r.model_dump() for r in reports], indent=2))
