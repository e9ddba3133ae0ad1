"""The agent console: paste or load a customer conversation, get two or three suggested
replies, each with what it rests on (policy passages, products); edit, copy, and mark
which one was used, edited or rejected. Served behind a login at /agent (`ui.serve`)."""

from __future__ import annotations

import logging
from html import escape

import gradio as gr

from assistant.agent.conversation import ConversationFormatError, parse_conversation
from assistant.agent.suggest import AgentAssistant, Suggestion, Suggestions
from assistant.examples import example_conversation

from . import render
from .uploads import uploaded

log = logging.getLogger(__name__)
SLOTS = 3
TITLES = {
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


def build_agent_app(agent: AgentAssistant, title: str = "Aisle") -> gr.Blocks:
    with gr.Blocks(title=f"{title} · agent console") as demo:
        shown = gr.State([])  # the suggestions as given, to tell "used" from "edited"
        conversation_id = gr.State("")
        gr.Markdown(f"## {title} · agent console")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=320):
                convo = gr.Textbox(
                    label="Customer conversation",
                    lines=9,
                    placeholder="Paste it here: one `Customer: …` / `Agent: …` line per "
                    "message, or JSONL of {role, text}.",
                )
                with gr.Row():
                    upload = gr.UploadButton(
                        "Load a file", file_types=[".jsonl", ".txt"], size="sm"
                    )
                    example = gr.Button("Example", size="sm")
                    go = gr.Button("Suggest replies", variant="primary")
            with gr.Column(scale=2, min_width=260):
                understood = gr.Markdown("")
                status = gr.Markdown("", elem_classes="note")
        boxes, sources, columns, used_buttons, reject_buttons = [], [], [], [], []
        with gr.Row(equal_height=False):
            for i in range(SLOTS):
                with gr.Column(visible=False, min_width=280) as col:
                    heading = gr.Markdown(f"### Suggestion {i + 1}")
                    box = gr.Textbox(
                        label="Reply (edit freely)", lines=6, interactive=True, buttons=["copy"]
                    )
                    with gr.Row():
                        used = gr.Button("Used", size="sm", variant="primary")
                        rejected = gr.Button("Rejected", size="sm")
                    rests = gr.HTML()
                columns.append((col, heading))
                boxes.append(box)
                sources.append(rests)
                used_buttons.append(used)
                reject_buttons.append(rejected)

        def suggest(text: str, request: gr.Request):
            hidden = [gr.update(visible=False)] * SLOTS
            try:
                messages = parse_conversation(text or "")
            except ConversationFormatError as exc:
                return [
                    [], "", "", f"Couldn't read the conversation: {exc}",
                    *hidden, *[gr.skip()] * SLOTS * 3,
                ]  # fmt: skip
            try:
                result: Suggestions = agent.suggest(messages)
            except Exception:
                log.exception("suggest failed")
                return [
                    [], "", "", "Sorry, suggestions failed on our side. Please try again.",
                    *hidden, *[gr.skip()] * SLOTS * 3,
                ]  # fmt: skip
            conv_id = agent.feedback_conversation_id(text)
            cols, heads, texts, rests = [], [], [], []
            for i in range(SLOTS):
                if i < len(result.suggestions):
                    s = result.suggestions[i]
                    cols.append(gr.update(visible=True))
                    heads.append(f"### {i + 1}. {TITLES[s.direction]}")
                    texts.append(s.text)
                    rests.append(sources_html(s))
                else:
                    cols.append(gr.update(visible=False))
                    heads.append("")
                    texts.append("")
                    rests.append("")
            note = render.plain_text(" · ".join(result.notes))
            return [
                [s.model_dump() for s in result.suggestions],
                conv_id,
                f"**Understood:** {render.plain_text(result.understood)}  \n"
                f"<span class='muted'>{result.latency_ms / 1000:.1f} s</span>",
                note,
                *cols,
                *heads,
                *texts,
                *rests,
            ]

        outputs = [
            shown,
            conversation_id,
            understood,
            status,
            *[c for c, _ in columns],
            *[h for _, h in columns],
            *boxes,
            *sources,
        ]
        go.click(suggest, convo, outputs, api_name="suggest")

        def mark(i: int, verdict: str):
            def handler(text: str, given: list, conv_id: str, request: gr.Request):
                if i >= len(given):
                    return "Nothing to mark yet."
                original = given[i]["text"]
                kind = verdict
                if verdict == "used" and " ".join(text.split()) != " ".join(original.split()):
                    kind = "edited"
                agent.record_verdict(
                    conv_id, kind, given[i]["direction"], getattr(request, "username", None)
                )
                return f"Marked suggestion {i + 1} as {kind}."

            return handler

        for i in range(SLOTS):
            used_buttons[i].click(mark(i, "used"), [boxes[i], shown, conversation_id], status)
            reject_buttons[i].click(mark(i, "rejected"), [boxes[i], shown, conversation_id], status)

        def load_file(path: str):
            try:
                return uploaded(path).read_text(encoding="utf-8"), ""
            except UnicodeDecodeError:
                return gr.skip(), "Couldn't read that file: it is not UTF-8 text."
            except ValueError as exc:
                return gr.skip(), f"Couldn't read that file: {exc}"

        upload.upload(load_file, upload, [convo, status], api_name="load_file")
        sample = example_conversation(next(iter(agent.live.parts.index.titles().values()), None))
        example.click(lambda: sample, None, convo)
    return demo
