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

from ..criteria import Criteria
from ..jsonl import read_jsonl
from ..report import SuiteResult, WorstCase
from ..sets import EvalSet, load_set


class TurnCase(BaseModel):
    text: str = Field(min_length=1)
    intent: str | None = None  # None (a shop's own script): the reading is not scored
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
    id: str = ""
    split: str = ""
    turns: list[TurnCase] = Field(min_length=1)


def load_script(path: Path, facet_keys: list[str]) -> list[Dialogue]:
    """A shop's scripted dialogues, one JSON object per line: `{"id": ..., "turns": [{"text":
    ..., "expect": ["category=...", "price<60"]}, ...]}` (a bare list of turns works too).
    Every expectation is parsed against this catalog's facets; all bad lines are named."""

    def dialogue(row, number: int) -> Dialogue:
        d = Dialogue.model_validate({"turns": row} if isinstance(row, list) else row)
        for t, case in enumerate(d.turns, 1):
            try:
                Criteria(case.expect or [], facet_keys)
            except ValueError as exc:
                raise ValueError(f"turn {t}: {exc}") from None
            if case.shows not in (None, "none"):
                raise ValueError(f'turn {t}: "shows" may only be "none"')
        return d.model_copy(update={"id": d.id or f"line {number}"})

    return read_jsonl(path, dialogue, "script")


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
    read_turns: int = 0  # turns that say what the reading should be
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
    turn_clean: dict[str, float] = {}  # "dialogue #turn" → 1 when no product shown broke it
    dialogue_clean: dict[str, float] = {}
    latencies_ms: list[float] = []


def _slot_type(slot: str) -> str:
    return slot.split(".")[0]


def evaluate(
    settings: Settings,
    eval_set: EvalSet | str,
    split: str,
    model: str | None,
    force_llm: bool = False,
    files: tuple[str, ...] = ("dialogues.jsonl", "nlu.jsonl"),
    script: Path | None = None,
    use_llm: bool | None = None,
    config_name: str | None = None,
) -> DialogueReport:
    """`model` None: the deterministic reading alone (unless `use_llm`: the settings' own
    LLM). `script`: a shop's scripted dialogues instead of the set's."""
    config = settings.with_overrides(llm_model=model) if model else settings
    assistant = Assistant(config, use_llm=model is not None if use_llm is None else use_llm)
    assistant.parts.writer.llm = None  # understanding only; replies from facts
    assistant.parts.interpreter.always = force_llm
    keys = [f.key for f in assistant.parts.lexicon.facets.values()]
    if script is not None:
        dialogues, set_name = load_script(script, keys), Path(script).name
    else:
        es = load_set(eval_set) if isinstance(eval_set, str) else eval_set
        dialogues, set_name = load_dialogues(es, split, files), es.name
    tally = _Tally()
    for dialogue in dialogues:
        session = f"{dialogue.id}-{time.monotonic_ns()}"
        ok_dialogue = True
        for number, case in enumerate(dialogue.turns, 1):
            before = assistant.state(session)
            t0 = time.perf_counter()
            reply = assistant.respond(session, case.text)
            tally.latencies.append((time.perf_counter() - t0) * 1000)
            tally.reading(dialogue.id, case, reply, before, assistant)
            ok_dialogue &= tally.products(
                f"{dialogue.id} #{number}", dialogue.id, case, reply, keys
            )
        tally.clean_dialogues += ok_dialogue
        tally.dialogue_clean[dialogue.id] = float(ok_dialogue)
    config_name = (config_name or model or "rules only") + (
        " (LLM every turn)" if force_llm else ""
    )
    return tally.report(set_name, config_name, split, len(dialogues))


class _Tally:
    """What the turns of a run add up to: the readings against the expected ones, the
    products against the stated constraints, the latencies."""

    def __init__(self) -> None:
        self.tp, self.fp, self.fn = Counter(), Counter(), Counter()
        self.intents_ok = self.total = self.read = self.invented = self.alone = 0
        self.dropped = self.checked = self.clean = self.empty = self.clean_dialogues = 0
        self.latencies: list[float] = []
        self.errors: list[dict] = []
        self.violations: list[dict] = []
        self.turn_clean: dict[str, float] = {}
        self.dialogue_clean: dict[str, float] = {}

    def reading(self, dialogue_id: str, case, reply, before, assistant) -> None:
        """The turn's intent and slots against the case's."""
        turn = reply.interpretation
        self.alone += turn.certain  # the deterministic reading accounted for every word
        self.dropped += reply.llm_invented
        self.total += 1
        answered = turn.intent == "clarify_answer" and case.intent == "refine" and before.asked
        if case.intent is None:  # a script without readings: only the products count
            got = want = set()
            answered = True
        else:
            self.read += 1
            got, want = turn.slots(), case.expected()
            self.intents_ok += turn.intent == case.intent or bool(answered)
        for slot, _ in got & want:
            self.tp[_slot_type(slot)] += 1
        for slot, value in got - want:
            self.fp[_slot_type(slot)] += 1
            self.invented += not _grounded(value, case.text, assistant)
        for slot, _ in want - got:
            self.fn[_slot_type(slot)] += 1
        if (turn.intent != case.intent and not answered) or got != want:
            self.errors.append(
                {
                    "dialogue": dialogue_id,
                    "text": case.text,
                    "intent": [turn.intent, case.intent],
                    "extra": sorted(got - want),
                    "missing": sorted(want - got),
                }
            )

    def products(self, name: str, dialogue_id: str, case, reply, keys) -> bool:
        """The products shown against what the case expects; False when one breaks it."""
        if case.expect is None and case.shows is None:
            return True
        self.checked += 1
        criteria = Criteria(case.expect or [], keys)
        bad = [i.product for i in reply.products if not criteria.satisfied_by(i.product)]
        if case.shows == "none" and reply.products:
            bad = [i.product for i in reply.products]
        if (
            case.expect
            and case.shows != "none"
            and not reply.products
            and reply.interpretation.intent in ("search", "refine", "clarify_answer")
        ):
            self.empty += 1
        self.turn_clean[name] = float(not bad)
        if not bad:
            self.clean += 1
            return True
        self.violations.append(
            {
                "dialogue": dialogue_id,
                "text": case.text,
                "expect": case.expect,
                "shows": case.shows,
                "violating": [f"{p.id} {p.title}" for p in bad],
            }
        )
        return False

    def report(self, set_name: str, config: str, split: str, dialogues: int) -> DialogueReport:
        tp, fp, fn = self.tp, self.fp, self.fn
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
        latencies = sorted(self.latencies)
        n, n_read, checked = max(self.total, 1), max(self.read, 1), self.checked
        return DialogueReport(
            set=set_name,
            config=config,
            split=split,
            dialogues=dialogues,
            turns=self.total,
            read_turns=self.read,
            intent_accuracy=round(self.intents_ok / n_read, 3),
            slot_precision=round(precision, 3),
            slot_recall=round(recall, 3),
            slot_f1=round(f1, 3),
            per_slot=per_slot,
            invented_values=self.invented,
            rules_alone_share=round(self.alone / n, 3),
            llm_invented_dropped=self.dropped,
            checked_turns=checked,
            zero_violation_turns=round(self.clean / checked, 3) if checked else 1.0,
            zero_violation_dialogues=(
                round(self.clean_dialogues / dialogues, 3) if dialogues else 1.0
            ),
            empty_turns=self.empty,
            violations=self.violations,
            turn_ms_p50=round(statistics.median(latencies), 1) if latencies else 0.0,
            turn_ms_p95=(
                round(latencies[int(0.95 * (len(latencies) - 1))], 1) if latencies else 0.0
            ),
            errors=self.errors,
            turn_clean=self.turn_clean,
            dialogue_clean=self.dialogue_clean,
            latencies_ms=latencies,
        )


def suite_result(report: DialogueReport, suite: str, seconds: float) -> SuiteResult:
    headline = {
        "turns with 0 violations": report.zero_violation_turns,
        "dialogues with 0 violations": report.zero_violation_dialogues,
        "empty turns": float(report.empty_turns),
        "turn p50 ms": report.turn_ms_p50,
        "turn p95 ms": report.turn_ms_p95,
    }
    if report.read_turns:
        headline = {
            "intent accuracy": report.intent_accuracy,
            "slot f1": report.slot_f1,
            "rules alone": report.rules_alone_share,
            **headline,
        }
    if suite == "nlu":
        headline = {
            k: v for k, v in headline.items() if "violation" not in k and k != "empty turns"
        }
    worst = [
        WorstCase(
            id=v["dialogue"],
            asked=v["text"],
            shown=v["violating"],
            expected=", ".join(v["expect"] or []) or f"shows {v['shows']}",
            note="shown products break what the turn expects",
        )
        for v in report.violations[:10]
    ]
    worst += [
        WorstCase(
            id=e["dialogue"],
            asked=e["text"],
            expected=f"intent {e['intent'][1]}; missing {e['missing']}",
            note=f"read as {e['intent'][0]}; extra {e['extra']}",
        )
        for e in report.errors[: 10 - len(worst)]
    ]
    per_case = {
        "turns with 0 violations": report.turn_clean,
        "dialogues with 0 violations": report.dialogue_clean,
    }
    return SuiteResult(
        suite=suite,
        config=report.config,
        set=report.set,
        headline=headline,
        per_case={k: v for k, v in per_case.items() if k in headline},
        latencies_ms=report.latencies_ms,
        worst=worst,
        seconds=round(seconds, 1),
        detail=report.model_dump(exclude={"turn_clean", "dialogue_clean", "latencies_ms"}),
    )


def _grounded(value: str, text: str, assistant: Assistant) -> bool:
    """Could this value have come from the shopper's words? (catalog readings of the
    words, numbers said, references and removals are checked by the readers)."""
    from assistant.understanding.words import phrase_terms, tokenize

    said = set(phrase_terms(text))
    if set(phrase_terms(value)) <= said | {"true"}:
        return True
    readings = {
        r.value.casefold() for s in assistant.parts.words.match(tokenize(text)) for r in s.readings
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
