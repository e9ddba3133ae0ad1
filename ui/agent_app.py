"""The agent console: paste or load a customer conversation, get two or three suggested
replies, each with what it rests on (policy passages, products); edit, copy, and mark
which one was used, edited or rejected. Served behind a login at /agent (`ui.serve`)."""

from __future__ import annotations

import logging
from html import escape

import gradio as gr

from assistant.agent.conversation import ConversationFormatError, parse_conversation
from assistant.agent.precedents import Precedent
from assistant.agent.suggest import AgentAssistant, Suggestion, Suggestions
from assistant.examples import example_conversation
from base.stores import StoreUnavailableError
from orders.propose import ServiceCase

from . import render
from .uploads import uploaded

log = logging.getLogger(__name__)
SLOTS = 3
TITLES = {
    "act": "Act on the order",
    "answer": "Answer the question",
    "recommend": "Recommend products",
    "clarify": "Ask for the missing detail",
}


def sources_html(s: Suggestion) -> str:
    parts = []
    for p in s.passages:
        parts.append(f'<div class="passage"><b>{escape(p.cite())}</b><p>{escape(p.text)}</p></div>')
    if s.products:
        cards = "".join(render.card_html(c) for c in s.products)
        parts.append(f'<div class="mini-cards">{cards}</div>')
    if not parts:
        what = "nothing but the conversation" if s.direction == "clarify" else "no source"
        parts.append(f'<p class="muted">Rests on {what}.</p>')
    origin = (
        "drafted by the LLM from these sources" if s.source == "llm" else "built from the sources"
    )
    return f'<div class="rests"><p class="muted">{origin}</p>{"".join(parts)}</div>'


def case_html(case: ServiceCase | None) -> str:
    """The customer, their orders (the ones the conversation is about first, marked), and
    each proposed action with the rules it meets or breaks."""
    if case is None:
        return ""
    if case.customer is None:
        return f'<div class="service"><p class="muted">{escape(case.note)}</p></div>'
    c = case.customer
    parts = [
        f"<h4>{escape(c.name)} <span class='muted'>({escape(c.id)}, identified by "
        f"{escape(case.identified_by)})</span></h4>"
    ]
    for p in case.proposals:
        state = "ready to confirm" if p.allowed else "not allowed: " + "; ".join(p.why_not)
        detail = ", ".join(f"{k}={v}" for k, v in p.arguments.items())
        parts.append(
            f'<div class="proposal {"ok" if p.allowed else "refused"}"><b>'
            f"{escape(p.name)}</b> <span class='muted'>{escape(state)}</span>"
            f"<br><code>{escape(detail)}</code></div>"
        )
    for q in case.questions:
        parts.append(f'<p class="muted">Ask: {escape(q)}</p>')
    rows = []
    ordered = sorted(case.orders, key=lambda o: o.id not in case.focus)
    for o in ordered:
        mark = "▶ " if o.id in case.focus else ""
        lines = "<br>".join(escape(line.label()) + f" · {line.price:.2f}" for line in o.lines)
        rows.append(
            f"<tr{' class=focus' if o.id in case.focus else ''}><td>{mark}{escape(o.id)}</td>"
            f"<td>{escape(o.status)}</td><td>{lines}</td></tr>"
        )
    parts.append(
        "<table class='orders'><tr><th>order</th><th>status</th><th>items</th></tr>"
        + "".join(rows)
        + "</table>"
    )
    if case.note:
        parts.append(f'<p class="muted">{escape(case.note)}</p>')
    return f'<div class="service">{"".join(parts)}</div>'


def precedents_html(cases: list[Precedent]) -> str:
    """The closest resolved cases: what the customer wrote and the reply that resolved it."""
    if not cases:
        return ""
    items = "".join(
        f'<div class="precedent"><p class="muted">{escape(c.source)} · '
        f"{c.at:%Y-%m-%d}</p><p><b>Customer:</b> {escape(c.asked[:300])}</p>"
        f"<p><b>Reply:</b> {escape(c.reply[:500])}</p></div>"
        for c in cases
    )
    return f'<div class="precedents"><h4>Closest resolved cases</h4>{items}</div>'


class AgentPage:
    """The console's handlers, then its layout, then the wiring (as Gradio's demos read)."""

    def __init__(self, agent: AgentAssistant, title: str = "Aisle"):
        self.agent, self.title = agent, title

    # ---- handlers ----------------------------------------------------------------------
    def suggest(self, text: str, request: gr.Request) -> list:
        """The conversation read, and its suggestions shown one a column."""
        hidden = [gr.update(visible=False)] * SLOTS
        try:
            messages = parse_conversation(text or "")
        except ConversationFormatError as exc:
            return [
                [], "", "", f"Couldn't read the conversation: {exc}",
                *hidden, *[gr.skip()] * SLOTS * 3, "", None,
            ]  # fmt: skip
        try:
            result: Suggestions = self.agent.suggest(messages)
        except Exception:
            log.exception("suggest failed")
            return [
                [], "", "", "Sorry, suggestions failed on our side. Please try again.",
                *hidden, *[gr.skip()] * SLOTS * 3, "", None,
            ]  # fmt: skip
        cols, heads, texts, rests = [], [], [], []
        for i in range(SLOTS):
            s = result.suggestions[i] if i < len(result.suggestions) else None
            cols.append(gr.update(visible=s is not None))
            heads.append(f"### {i + 1}. {TITLES[s.direction]}" if s else "")
            texts.append(s.text if s else "")
            rests.append(sources_html(s) if s else "")
        return [
            [s.model_dump() for s in result.suggestions],
            self.agent.feedback_conversation_id(text),
            f"**Understood:** {render.plain_text(result.understood)}  \n"
            f"<span class='muted'>{result.latency_ms / 1000:.1f} s</span>",
            render.plain_text(" · ".join(result.notes)),
            *cols,
            *heads,
            *texts,
            *rests,
            case_html(result.service) + precedents_html(result.precedents),
            result.service.model_dump(mode="json") if result.service else None,
        ]

    def confirm(self, case: dict | None, conv_id: str, request: gr.Request) -> str:
        """The agent confirms the proposed actions: recorded (who, when, what), and applied to
        the order store when `orders_write` is on."""
        if not case or not case.get("customer"):
            return "No action to confirm: the customer is not identified yet."
        service = ServiceCase.model_validate(case)
        ready = [p for p in service.proposals if p.allowed]
        if not ready:
            return "No action is ready to confirm."
        agent = getattr(request, "username", None)
        said = []
        for p in ready:
            self.agent.parts.feedback.action(
                conv_id, service.customer.id, p.name, p.arguments, agent
            )
            try:
                said.append(self.agent.desk.confirm(p))
            except ValueError as exc:
                said.append(f"{p.name}: not applied: {exc}")
        return " · ".join(said)

    def mark(self, i: int, verdict: str):
        """A handler for suggestion i's button: used (or edited, when its text changed) or
        rejected, recorded with the signed-in agent."""

        def handler(text: str, given: list, conv_id: str, convo: str, request: gr.Request) -> str:
            if i >= len(given):
                return "Nothing to mark yet."
            kind = verdict
            if verdict == "used" and " ".join(text.split()) != " ".join(given[i]["text"].split()):
                kind = "edited"
            self.agent.record_verdict(
                conv_id, kind, given[i]["direction"], getattr(request, "username", None)
            )
            if kind in ("used", "edited"):  # how this one was resolved: a precedent
                try:
                    self.agent.remember(parse_conversation(convo or ""), text, kind)
                except (ConversationFormatError, StoreUnavailableError) as exc:
                    return f"Marked suggestion {i + 1} as {kind} (not kept as a precedent: {exc})."
            return f"Marked suggestion {i + 1} as {kind}."

        return handler

    @staticmethod
    def load_file(path: str):
        try:
            return uploaded(path).read_text(encoding="utf-8"), ""
        except UnicodeDecodeError:
            return gr.skip(), "Couldn't read that file: it is not UTF-8 text."
        except ValueError as exc:
            return gr.skip(), f"Couldn't read that file: {exc}"

    def example(self) -> str:
        titles = self.agent.live.parts.index.titles().values()
        return example_conversation(next(iter(titles), None))

    # ---- layout ------------------------------------------------------------------------
    def layout(self) -> None:
        self.shown = gr.State([])  # the suggestions as given, to tell "used" from "edited"
        self.conversation_id = gr.State("")
        gr.Markdown(f"## {self.title} · agent console")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=320):
                self.convo = gr.Textbox(
                    label="Customer conversation",
                    lines=9,
                    placeholder="Paste it here: one `Customer: …` / `Agent: …` line per "
                    "message, or JSONL of {role, text}.",
                )
                with gr.Row():
                    self.upload = gr.UploadButton(
                        "Load a file", file_types=[".jsonl", ".txt"], size="sm"
                    )
                    self.example_button = gr.Button("Example", size="sm")
                    self.go = gr.Button("Suggest replies", variant="primary")
            with gr.Column(scale=2, min_width=260):
                self.understood = gr.Markdown("")
                self.status = gr.Markdown("", elem_classes="note")
                self.service = gr.HTML()
                self.case = gr.State(None)
                self.confirm_button = gr.Button("Confirm the proposed action", size="sm")
        self.columns, self.headings, self.boxes, self.sources = [], [], [], []
        self.used_buttons, self.reject_buttons = [], []
        with gr.Row(equal_height=False):
            for i in range(SLOTS):
                with gr.Column(visible=False, min_width=280) as col:
                    self.headings.append(gr.Markdown(f"### Suggestion {i + 1}"))
                    self.boxes.append(
                        gr.Textbox(
                            label="Reply (edit freely)", lines=6, interactive=True, buttons=["copy"]
                        )
                    )
                    with gr.Row():
                        self.used_buttons.append(gr.Button("Used", size="sm", variant="primary"))
                        self.reject_buttons.append(gr.Button("Rejected", size="sm"))
                    self.sources.append(gr.HTML())
                self.columns.append(col)

    @property
    def suggest_outputs(self) -> list:
        return [
            self.shown,
            self.conversation_id,
            self.understood,
            self.status,
            *self.columns,
            *self.headings,
            *self.boxes,
            *self.sources,
            self.service,
            self.case,
        ]

    # ---- wiring ------------------------------------------------------------------------
    def wire(self) -> None:
        self.go.click(self.suggest, self.convo, self.suggest_outputs, api_name="suggest")
        for i in range(SLOTS):
            given = [self.boxes[i], self.shown, self.conversation_id, self.convo]
            self.used_buttons[i].click(self.mark(i, "used"), given, self.status)
            self.reject_buttons[i].click(self.mark(i, "rejected"), given, self.status)
        self.upload.upload(
            self.load_file, self.upload, [self.convo, self.status], api_name="load_file"
        )
        self.example_button.click(self.example, None, self.convo)
        self.confirm_button.click(
            self.confirm, [self.case, self.conversation_id], self.status, api_name="confirm"
        )


def build_agent_app(agent: AgentAssistant, title: str = "Aisle") -> gr.Blocks:
    page = AgentPage(agent, title)
    with gr.Blocks(title=f"{title} · agent console") as demo:
        page.layout()
        page.wire()
    return demo
