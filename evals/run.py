"""What `aisle eval` runs: the suites chosen, for each configuration, on one index, into one
report (evals/report.py). Each configuration gets its own conversation store and event
log in the run's folder, so an eval never writes into the shop's own."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from assistant.config import Settings
from assistant.pipeline import Assistant
from base.stores import store_exists

from . import report as rpt
from .sets import EvalSet

log = logging.getLogger(__name__)

SUITES = (
    "retrieval", "dialogues", "nlu", "explain", "simulate", "replay", "agent", "orders", "learning",
)  # fmt: skip


class EvalConfig(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    name: str
    settings: Settings
    use_llm: bool = True
    model: str | None = None  # a reader model named by --models (dialogues/nlu/agent)
    eval_set: EvalSet | None = None  # the set written for its index's catalog, or --set


class EvalPlan(BaseModel):
    suites: list[str]
    configs: list[EvalConfig]
    split: str = "dev"
    judged: Path | None = None
    script: Path | None = None
    conversations: Path | None = None
    tasks: Path | None = None  # orders: τ²-bench-shaped service tasks
    events_url: str | None = None  # the log to replay (default: each config's own shop log)
    targets: int = 30
    runs: int = 2
    max_turns: int = 5
    seed: int = 0
    paraphrase: bool = False
    llm_every_turn: bool = False
    sessions: int = 2_000  # learning: simulated sessions
    sizes: list[int] = [0, 100, 1_000, 10_000]  # learning: sessions of log per retrained ranker
    out: Path


def default_suites(plan: EvalPlan, events_url: str) -> list[str]:
    """What applies to the indexes: their sets' (or the files given) judged queries and
    dialogues, the simulated shopper always, the event log when it has engagement."""
    sets = [c.eval_set for c in plan.configs]
    split_files = ["dev", "test"] if plan.split == "all" else [plan.split]
    chosen = []
    if plan.judged or all(
        es and all(es.has(f"judged-{s}.jsonl") for s in split_files) for es in sets
    ):
        chosen.append("retrieval")
    if plan.script or all(es and es.has("dialogues.jsonl") for es in sets):
        chosen.append("dialogues")
    if chosen:  # the reasons of the product replies to those queries and dialogues
        chosen.append("explain")
    chosen.append("simulate")
    if _has_engagement(events_url):
        chosen.append("replay")
    if plan.conversations:
        chosen.append("agent")
    if plan.tasks:
        chosen.append("orders")
    return chosen


def _has_engagement(url: str) -> bool:
    from ranking.events import EventLog, EventLogUnavailableError

    if not store_exists(url):
        return False
    try:
        return any(True for _ in EventLog(url).events(kinds=["click", "cart_add"]))
    except EventLogUnavailableError:
        return False


def _isolated(config: EvalConfig, folder: Path) -> Settings:
    folder.mkdir(parents=True, exist_ok=True)
    return config.settings.with_overrides(
        conversation_store_url=f"sqlite:///{folder / 'conversations.sqlite'}",
        event_log_url=f"sqlite:///{folder / 'events.sqlite'}",
    )


def _set_name(config: EvalConfig, settings: Settings) -> str:
    if config.eval_set is not None:
        return config.eval_set.name
    from retrieval.index import ProductIndex

    index = ProductIndex(settings)
    if not index.exists():  # the orders suite needs no catalog
        return settings.index_dir.name
    catalog = index.manifest.catalog
    return Path(catalog).parent.name or Path(catalog).name if catalog else settings.index_dir.name


def run(plan: EvalPlan, say: Callable[[str], None] = print) -> rpt.EvalRun:
    started = time.perf_counter()
    results: list[rpt.SuiteResult] = []
    for n, config in enumerate(plan.configs):
        folder = plan.out / f"config-{n + 1}"
        settings = _isolated(config, folder)
        name = _set_name(config, settings)
        for suite in plan.suites:
            say(f"{suite} · {name} · {config.name} …")
            t0 = time.perf_counter()
            results += _suite(suite, plan, config, settings, name, t0)
    return rpt.EvalRun(
        seconds=round(time.perf_counter() - started, 1),
        index=", ".join(dict.fromkeys(str(c.settings.index_dir) for c in plan.configs)),
        configs=[c.name for c in plan.configs],
        results=results,
    )


def _suite(suite, plan: EvalPlan, config: EvalConfig, settings: Settings, name, t0):
    if suite not in RUNNERS:
        raise ValueError(f"unknown suite {suite!r}")
    elapsed = lambda: time.perf_counter() - t0  # noqa: E731
    return RUNNERS[suite](suite, plan, config, settings, name, elapsed)


def _retrieval(
    suite: str, plan: EvalPlan, config: EvalConfig, settings: Settings, name: str, elapsed
):
    """NDCG, recall and MRR per signal on the set's judged queries (or yours)."""
    from .suites.retrieval import evaluate, suite_result

    # the turn-as-filters row reads with the rules; the chat row as configured, and with
    # an LLM it is compared with the rules alone (what the LLM's reading changed)
    bot = Assistant(settings, use_llm=config.use_llm)
    report = evaluate(
        bot.parts.index,
        plan.split,
        eval_set=config.eval_set or "",
        assistant=bot,
        judged=plan.judged,
        ranker=bot.parts.ranker,
    )
    return [suite_result(report, config.name, elapsed())]


def _dialogues(
    suite: str, plan: EvalPlan, config: EvalConfig, settings: Settings, name: str, elapsed
):
    """Scripted dialogues (and, for `nlu`, the reading alone); with `--llm-every-turn`, the
    LLM reading every turn too."""
    from .suites.dialogues import evaluate, suite_result

    files = ("dialogues.jsonl",) if suite == "dialogues" else ("dialogues.jsonl", "nlu.jsonl")
    out = []
    for force in [False, True] if plan.llm_every_turn and config.use_llm else [False]:
        report = evaluate(
            settings,
            config.eval_set or "",
            plan.split,
            config.model,
            force,
            files,
            script=plan.script if suite == "dialogues" else None,
            use_llm=config.use_llm,
            config_name=config.name,
        )
        out.append(suite_result(report, suite, elapsed()))
    return out


def _explain(
    suite: str, plan: EvalPlan, config: EvalConfig, settings: Settings, name: str, elapsed
):
    """The written explanations of the set's queries and dialogues, checked against the products."""
    from .suites.explain import conversations, evaluate, suite_result

    bot = Assistant(settings, use_llm=config.use_llm)
    keys = [f.key for f in bot.parts.lexicon.facets.values()]
    convs = conversations(config.eval_set, plan.split, plan.judged, plan.script, keys)
    if not convs:
        raise ValueError(
            "the explain suite needs judged queries or dialogues: an eval set for this "
            "catalog, --judged or --script"
        )
    llm = bot.parts.writer.llm
    backend = f"the LLM ({type(llm).__name__})" if llm else "the catalog realiser"
    report = evaluate(bot, convs)
    files = " + ".join(p.name for p in (plan.judged, plan.script) if p) or name
    result = suite_result(report, config.name, files, backend, elapsed())
    result.notes += bot.notes
    return [result]


def _simulate(
    suite: str, plan: EvalPlan, config: EvalConfig, settings: Settings, name: str, elapsed
):
    """Simulated shoppers with hidden needs, generated from the catalog."""
    from tqdm import tqdm

    from .suites.simulate import simulate, suite_result

    bot = Assistant(settings, use_llm=config.use_llm)
    rewrite = _paraphraser(bot) if plan.paraphrase else None
    bar = tqdm(total=plan.targets * plan.runs, desc="simulated shoppers", unit="run", leave=False)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    try:
        report = simulate(
            bot,
            bot.parts.index.all_products(),
            bot.parts.lexicon,
            plan.targets,
            plan.runs,
            plan.max_turns,
            plan.seed,
            rewrite,
            progress,
        )
    finally:
        bar.close()
    result = suite_result(report, config.name, name, elapsed())
    result.notes += bot.notes
    return [result]


def _replay(suite: str, plan: EvalPlan, config: EvalConfig, settings: Settings, name: str, elapsed):
    """The event log's impressions re-ranked by this configuration."""
    from ranking.events import EventLog

    from .suites.replay import replay, suite_result

    bot = Assistant(settings, use_llm=False)
    url = plan.events_url or config.settings.event_log_location()
    report = replay(EventLog(url).events(), bot.parts.searcher, bot.parts.ranker, bot.parts.index)
    result = suite_result(report, config.name, name, elapsed())
    result.notes.append(f"event log: {EventLog(url).where}")
    return [result]


def _learning(
    suite: str, plan: EvalPlan, config: EvalConfig, settings: Settings, name: str, elapsed
):
    """Simulated shoppers with hidden preferences: also-viewed and the ranker's learning curve."""
    from tqdm import tqdm

    from .suites.learning import evaluate, suite_result

    bot = Assistant(settings, use_llm=False)  # the shoppers' turns read by rules
    bar = tqdm(desc="learning", unit="session", leave=False)

    stage = [""]

    def progress(what: str, done: int, total: int) -> None:
        if stage[0] != what:
            stage[0] = what
            bar.reset(total)
            bar.set_description(what)
        bar.update(done - bar.n)

    try:
        sizes = tuple(plan.sizes)
        report = evaluate(bot, name, plan.sessions, sizes, plan.seed, progress=progress)
    finally:
        bar.close()
    result = suite_result(report, config.name, name, elapsed())
    return [result]


def _agent(suite: str, plan: EvalPlan, config: EvalConfig, settings: Settings, name: str, elapsed):
    """Suggested replies on the set's customer conversations (or yours)."""
    from .suites.agent import evaluate, suite_result

    report = evaluate(
        settings,
        plan.split,
        config.model,
        plan.conversations,
        use_llm=config.use_llm,
        config_name=config.name,
    )
    return [suite_result(report, elapsed())]


def _orders(suite: str, plan: EvalPlan, config: EvalConfig, settings: Settings, name: str, elapsed):
    """The service console's proposed actions on service tasks, against their expected ones."""
    from orders.rules import load_rules
    from orders.store import OrderStore

    from .suites.orders import evaluate, suite_result

    if plan.tasks is None:
        raise ValueError("the orders suite needs --tasks FILE (τ²-bench-shaped tasks)")
    rules_file = settings.service_rules_file()
    if rules_file is None:
        raise ValueError(
            "the orders suite needs the shop's service rules: set service_rules or ingest "
            "a policies folder holding service-rules.toml"
        )
    store = OrderStore(settings.orders_location())
    if not store.counts()["orders"]:
        raise ValueError(f"no orders in {store.where}: run `aisle orders import FILE` first")
    report = evaluate(store, load_rules(rules_file), plan.tasks, _chooser(config, settings))
    return [suite_result(report, config.name, plan.tasks.name, elapsed())]


def _chooser(config: EvalConfig, settings: Settings):
    """The LLM's pick of new variants, as the console would ask it (`llm_picks_variants`:
    unset, off for a model on a CPU); None without it, or when the model cannot load."""
    from assistant.agent.service import llm_picks_variants, variant_chooser

    if config.model:
        settings = settings.with_overrides(llm_model=config.model)
    if not (config.use_llm and llm_picks_variants(settings)):
        return None
    from assistant.llm import make_chat_model
    from assistant.llm_models import LLMUnavailableError
    from retrieval.models import resolve_device

    try:
        llm = make_chat_model(settings, resolve_device(settings.device))
    except LLMUnavailableError as exc:  # the rules' proposals are still measured
        log.warning("orders: LLM unavailable (%s); the rules alone propose", exc)
        return None
    return variant_chooser(llm, settings)


RUNNERS = {
    "retrieval": _retrieval,
    "dialogues": _dialogues,
    "nlu": _dialogues,
    "explain": _explain,
    "simulate": _simulate,
    "replay": _replay,
    "learning": _learning,
    "agent": _agent,
    "orders": _orders,
}


def _paraphraser(bot) -> Callable[[str], str | None]:
    """The shopper's message reworded by the assistant's LLM (the simulator keeps a
    rewording only if every value it needs survives)."""
    if bot.parts.llm is None:
        raise ValueError(
            "--paraphrase needs an LLM, and none loaded: " + "; ".join(bot.notes or ["LLM off"])
        )
    from langchain_core.messages import HumanMessage, SystemMessage

    from assistant.llm import chat_json

    schema = {
        "type": "object",
        "properties": {"message": {"type": "string", "maxLength": 200}},
        "required": ["message"],
    }
    system = (
        "Reword a shopper's chat message to a shop assistant the way a real shopper might "
        "write it, keeping every product word, value and price exactly. Return JSON."
    )

    def rewrite(text: str) -> str | None:
        messages = [SystemMessage(content=system), HumanMessage(content=text)]
        out = chat_json(bot.parts.llm, messages, schema, bot.settings.llm_timeout_s, 60)
        return out.get("message") if isinstance(out, dict) else None

    return rewrite
