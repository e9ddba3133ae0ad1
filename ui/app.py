"""The shopper's page: chat on the left, the suggested products on the right.

Everything a shopper does goes through `Assistant`; this module only draws and wires.
Per-browser state (the conversation id, the reply being looked at) lives in `gr.State`,
so shoppers using the page at the same time never see each other's chat, cart or results.
"""

from __future__ import annotations

import hmac
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import gradio as gr

from assistant.chips import chips_of
from assistant.pipeline import Assistant
from assistant.records import Chip, Reply
from base.privacy import pseudonym, redact

from . import render
from .uploads import uploaded

log = logging.getLogger(__name__)
CSS = (Path(__file__).parent / "style.css").read_text()
SORRY = "Sorry, something went wrong on our side. Please try again in a moment."
LLM_NOTE = (
    "The writing model was slow or unavailable, so the reasons below come straight "
    "from the catalog."
)


def browser_secret(assistant: Assistant) -> str:
    """The key the browser's copy of the conversation id is kept under: the same for every
    worker on this index and across restarts (a random one per process would forget it)."""
    return pseudonym("browser-state", assistant.parts.feedback.salt)


def conversation_id(request: gr.Request | None) -> str:
    """A new conversation's id: the client's Gradio session when there is one, so an API
    client that never sends the browser's stored id (gradio_client) still continues its
    conversation from turn to turn; else a random one."""
    session_hash = getattr(request, "session_hash", None)
    return f"s-{session_hash}" if session_hash else uuid.uuid4().hex


def said(role: str, text: str) -> dict:
    """A chat message. The chat renders Markdown, and a reply quotes the catalog and the
    shopper: both are shown as the plain text they are."""
    return {"role": role, "content": render.plain_text(text)}


def shopper_note(notes: list[str]) -> str:
    """The one short note a shopper needs; details stay in the server's log."""
    for n in notes:
        log.info("turn note: %s", n)
    if any(n.startswith(("LLM unavailable", "LLM reason for", "LLM reply not")) for n in notes):
        return LLM_NOTE
    return ""


UPDATE_EVERY_S = 0.05  # a turn's page updates at most this often while it is written


def streamed(
    call: Callable[[Callable[[str], None]], Reply], every: float = UPDATE_EVERY_S
) -> Iterator[str | Reply]:
    """Runs `call(on_token)` in a thread; yields the text written so far at most every
    `every` seconds while it grows ("" when nothing is written yet, so the page can show the
    shopper's message), then the Reply. A reply done within `every` is one page update:
    each update costs the server its outputs' post-processing, which measured more than the
    turn itself (`evals/benchmarks/serve.py`). An exception inside is re-raised here."""
    pieces: queue.Queue[str | None] = queue.Queue()
    out: dict[str, Reply | BaseException] = {}

    def work() -> None:
        try:
            out["reply"] = call(pieces.put)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller below
            out["error"] = exc
        finally:
            pieces.put(None)

    threading.Thread(target=work, daemon=True).start()
    text, sent = "", None
    deadline = time.monotonic() + every
    while True:
        try:
            piece = pieces.get(timeout=max(deadline - time.monotonic(), 0.0))
        except queue.Empty:
            piece = ""
        if piece is None:
            break
        text += piece
        if time.monotonic() >= deadline:
            if text != sent:
                yield text
                sent = text
            deadline = time.monotonic() + every
    if "error" in out:
        raise out["error"]
    yield out["reply"]


def _pressed(event: gr.EventData) -> dict:
    """What a button inside an HTML value sent (`render.ACTIONS_JS`); {} for anything else."""
    data = getattr(event, "_data", None)
    return data if isinstance(data, dict) else {}


class ShopperPage:
    """The page's components and its handlers. Gradio's demos keep both at module level;
    here they live on one object per page, so two pages (two assistants) never share one."""

    def __init__(self, assistant: Assistant, title: str = "Aisle"):
        self.assistant, self.title = assistant, title
        # the key conversation ids are signed with: the same for every worker of this index
        self.id_key = pseudonym("conversation-ids", assistant.parts.feedback.salt)

    # ---- the handlers ----------------------------------------------------------------------
    def after(self, reply: Reply, session_id: str, hist: list, ids: list) -> dict:
        hist[-1] = (
            {"role": "assistant", "content": render.compare_markdown(reply.table)}
            if reply.table
            else said("assistant", reply.text)
        )
        self.assistant.save_chat(session_id, hist)
        # aligned with the chat's messages: thumbs on message i rate reply ids[i]
        ids = [*ids, *[""] * (len(hist) - len(ids))]
        ids[-1] = reply.reply_id
        out = {
            self.session: session_id,
            self.chatbot: hist,
            self.history: hist,
            self.reply_ids: ids,
            self.chips_view: render.chips_html(reply.chips),
            self.note: shopper_note(reply.notes),
            self.cart: render.cart_html(reply.state.cart),
        }
        if reply.reasons:  # a new set of products: new cards, nothing stale left open
            product_cards = self.assistant.actions.cards(reply)
            out |= {
                self.cards_view: render.cards_html(product_cards),
                self.last_reply: reply.reply_id,
                self.pick: gr.update(
                    choices=[(c.title, c.product_id) for c in product_cards], value=[]
                ),
                self.detail: gr.update(visible=False),
                self.comparison: "",
            }
        return out

    def run_turn(
        self, call, session_id: str, hist: list, ids: list, opening: dict | None = None
    ) -> Iterator[dict]:
        """The turn's page updates. `opening` (the shopper's message drawn, the box
        cleared) goes with the first of them: a quick turn is one update."""
        hist = [*hist, {"role": "assistant", "content": "…"}]
        pending = dict(opening or {})
        try:
            for step in streamed(call):
                if isinstance(step, Reply):
                    yield pending | self.after(step, session_id, hist, ids)
                else:
                    if step:
                        hist[-1] = said("assistant", step)
                    yield pending | {self.chatbot: hist, self.history: hist, self.note: ""}
                pending = {}
        except ValueError as exc:  # the shopper's input (e.g. an unreadable photo)
            hist[-1] = said("assistant", f"Sorry, I couldn't use that: {exc}")
            yield pending | {self.chatbot: hist, self.history: hist}
        except Exception:
            log.exception("turn failed")
            hist[-1] = said("assistant", SORRY)
            yield pending | {self.chatbot: hist, self.history: hist}

    def send(self, message: dict, session_id: str, hist: list, ids: list, request: gr.Request):
        session_id = self.checked(session_id) or self.new_id(request)
        # bounded before anything reads, redacts or keeps it (the turn says it was cut)
        text = (message or {}).get("text", "")[: self.assistant.settings.max_message_chars + 1]
        text = text.strip()
        files = [f if isinstance(f, str) else f["path"] for f in (message or {}).get("files", [])]
        try:  # a path in the request is only opened if the upload route wrote it
            image = str(uploaded(files[0])) if files else None
        except ValueError as exc:
            yield {self.session: session_id, self.note: f"Couldn't use that photo: {exc}"}
            return
        if not text and not image:
            yield {self.session: session_id}
            return
        hist, ids = self.chat_of(session_id, ids)
        if image:
            hist.append({"role": "user", "content": {"path": image}})
        if text:  # as the assistant read it: contact details are never kept
            hist.append(said("user", redact(text)))
        # the box clears with the turn's first page update
        yield from self.run_turn(
            lambda on_token: self.assistant.respond(session_id, text, image, on_token),
            session_id,
            hist,
            ids,
            opening={self.session: session_id, self.box: None},
        )

    # ---- conversation ids: issued here, signed, so no client can make up another's -----------
    def sign(self, raw: str) -> str:
        return f"{raw}.{pseudonym(raw, self.id_key)}"

    def checked(self, session_id: str | None) -> str:
        """The id as sent when this shop issued it, else "" (a made-up or altered id is no
        conversation: it can neither read, continue nor clear one)."""
        raw, dot, signature = (session_id or "").rpartition(".")
        ok = dot and raw and hmac.compare_digest(signature, pseudonym(raw, self.id_key))
        return session_id if ok else ""

    def new_id(self, request: gr.Request | None) -> str:
        return self.sign(conversation_id(request))

    def chat_of(self, session_id: str, ids: list) -> tuple[list, list]:
        """The conversation's own chat, from the store (never the page's copy, which belongs
        to the page session and not to the conversation), and the reply ids aligned to it."""
        try:
            hist = list(self.assistant.chat(session_id)) if session_id else []
        except Exception:  # noqa: BLE001 - a store that is down: the turn says sorry
            log.exception("reading the chat failed")
            hist = []
        return hist, [*ids, *[""] * len(hist)][: len(hist)]

    def chip_of(self, session_id: str, key: str) -> Chip | None:
        """The conversation's chip with this key (None for a stale or forged one)."""
        if not session_id:
            return None
        chips = chips_of(self.assistant.state(session_id), self.assistant.parts.lexicon.currency)
        return next((c for c in chips if c.key == key), None)

    def drop_chip(self, event: gr.EventData, session_id: str, hist: list, ids: list):
        session_id = self.checked(session_id)
        pressed = _pressed(event)
        chip = self.chip_of(session_id, str(pressed.get("chip") or ""))
        if chip is None:  # a stale page, or a request not from it
            yield {self.note: "That constraint is no longer in this conversation."}
            return
        hist, ids = self.chat_of(session_id, ids)
        if pressed.get("action") == "strict":  # a soft chip's "only": it filters now
            hist = [*hist, said("user", f"(only “{chip.label}”)")]
            act = self.assistant.make_strict
        else:
            hist = [*hist, said("user", f"(removed “{chip.label}”)")]
            act = self.assistant.drop_constraint
        yield from self.run_turn(
            lambda on_token: act(session_id, chip.key, on_token), session_id, hist, ids
        )

    def open_card(self, product_id: str):
        def handler(session_id: str, reply_id: str):
            view = self.assistant.actions.open_product(
                self.checked(session_id) or "anonymous", product_id, reply_id
            )
            related = view.related
            lists = (related.also_viewed, related.goes_with) if related else ([], [])
            return (
                gr.update(visible=True),
                render.detail_html(view),
                view.photos,
                gr.update(choices=view.variants, value=view.variants[0] if view.variants else None),
                product_id,
                *[
                    gr.update(choices=render.related_choices(n, goes), value=None, visible=bool(n))
                    for n, goes in zip(lists, (False, True), strict=True)
                ],
            )

        return handler

    def open_related(self, session_id: str, reply_id: str, product_id: str | None):
        if not product_id:
            return [gr.skip()] * len(self.detail_outputs)
        return self.open_card(product_id)(session_id, reply_id)

    def add_to_cart(self, product_id: str):
        def handler(session_id, reply_id, option, hist, ids, request: gr.Request):
            session_id = self.checked(session_id) or self.new_id(request)
            try:
                confirmed, items = self.assistant.actions.add_variant(
                    session_id, product_id, option, reply_id
                )
            except ValueError as exc:
                return gr.skip(), gr.skip(), gr.skip(), f"Couldn't add that: {exc}"
            hist = [*self.chat_of(session_id, ids)[0], said("assistant", confirmed)]
            self.assistant.save_chat(session_id, hist)
            return hist, hist, render.cart_html(items), ""

        return handler

    def open_pressed(self, event: gr.EventData, session_id: str, reply_id: str):
        product_id = str(_pressed(event).get("product") or "")
        try:
            return self.open_card(product_id)(session_id, reply_id)
        except ValueError:  # not a product of this catalog (a stale or forged request)
            return [gr.skip()] * len(self.detail_outputs)

    def add_pressed(
        self, event: gr.EventData, session_id, reply_id, hist, ids, request: gr.Request
    ):
        data = _pressed(event)
        option = data.get("option")
        return self.add_to_cart(str(data.get("product") or ""))(
            session_id, reply_id, None if option is None else str(option), hist, ids, request
        )

    def add_open(self, session_id, reply_id, option, product_id, hist, ids, request: gr.Request):
        if not product_id:
            return gr.skip(), gr.skip(), gr.skip(), "Open a product first."
        return self.add_to_cart(product_id)(session_id, reply_id, option, hist, ids, request)

    def compare(self, ids: list[str]):
        try:
            return render.compare_html(self.assistant.actions.compare(ids or []))
        except ValueError as exc:
            return f'<p class="muted">{exc}</p>'

    def rate(self, event: gr.LikeData, session_id: str, ids: list):
        session_id = self.checked(session_id)
        at = event.index if isinstance(event.index, int) else event.index[0]
        if session_id and 0 <= at < len(ids) and ids[at]:
            self.assistant.actions.rate_reply(session_id, ids[at], bool(event.liked))

    def restore(self, session_id: str) -> dict:
        """The page opened: draw the conversation this browser had, if it is stored."""
        session_id = self.checked(session_id)
        if not session_id:  # a first visit (or an id no page of this shop gave): a new one
            return {self.session: session_id}  # (an empty dict reads as one value to Gradio)
        state, hist = self.assistant.state(session_id), self.assistant.chat(session_id)
        product_cards = self.assistant.actions.shown_cards(state)
        return {
            self.session: session_id,
            self.chatbot: hist,
            self.history: hist,
            self.reply_ids: [""] * len(hist),  # thumbs count for replies of this visit
            self.cards_view: render.cards_html(product_cards),
            self.chips_view: render.chips_html(
                chips_of(state, self.assistant.parts.lexicon.currency)
            ),
            self.last_reply: state.shown_reply,
            self.pick: gr.update(choices=[(c.title, c.product_id) for c in product_cards]),
            self.cart: render.cart_html(state.cart),
        }

    def restart(self, session_id: str) -> dict:
        if session_id := self.checked(session_id):  # only a conversation this page holds
            self.assistant.reset(session_id)
        return {
            self.session: self.sign(uuid.uuid4().hex),
            self.chatbot: [],
            self.history: [],
            self.reply_ids: [],
            self.cards_view: "",
            self.chips_view: "",
            self.last_reply: "",
            self.note: "",
            self.pick: gr.update(choices=[], value=[]),
            self.box: None,
            self.cart: render.cart_html([]),
            self.detail: gr.update(visible=False),
            self.comparison: "",
        }

    # ---- the page --------------------------------------------------------------------------
    def layout(self) -> None:
        """The components, left to right: the chat, then the suggestions."""
        title, example = self.title, self.assistant.example_request()
        # The conversation id, kept by the browser (localStorage); all else is in the
        # conversation store, so a reload, a restart or another worker continues it.
        self.session = gr.BrowserState(
            "", storage_key="aisle-conversation", secret=browser_secret(self.assistant)
        )
        self.history = gr.State([])  # chat messages as drawn
        self.reply_ids = gr.State([])  # reply id per chat message ("" for others), for thumbs
        self.last_reply = gr.State("")
        self.open_id = gr.State("")

        with gr.Row(equal_height=False):
            gr.Markdown(f"## {title} · your shopping assistant")
            self.new_chat = gr.Button("New conversation", size="sm", scale=0, min_width=160)
        with gr.Row(equal_height=False):
            with gr.Column(scale=5, min_width=320):
                self.chatbot = gr.Chatbot(
                    height=460,
                    latex_delimiters=[],  # "$57 or $47" is prices, not a formula
                    label="Chat",
                    placeholder=f"Ask for something — “{example}”"
                    + (" — or add a photo." if self.assistant.has_photos else "."),
                )

                # drawn as one HTML value, not a render of buttons (`render.chips_html`)
                self.chips_view = gr.HTML("", js_on_load=render.ACTIONS_JS, padding=False)

                self.box = gr.MultimodalTextbox(
                    placeholder="Type a message, or paste/upload a photo…",
                    file_types=["image"],
                    file_count="single",
                    show_label=False,
                    submit_btn=True,
                )
                self.note = gr.Markdown("", elem_classes="self.note")
            with gr.Column(scale=6, min_width=320):
                with gr.Column(visible=False) as self.detail:
                    with gr.Row():
                        gr.Markdown("### Product details")
                        self.close = gr.Button("Close", size="sm", scale=0, min_width=80)
                    self.gallery = gr.Gallery(
                        label="Photos", columns=4, height=220, allow_preview=True
                    )
                    self.detail_text = gr.HTML()
                    with gr.Row():
                        self.detail_variant = gr.Dropdown(label="Option", choices=[], scale=3)
                        self.detail_add = gr.Button("Add to self.cart", variant="primary", scale=1)
                    # from the event log's sessions, filled with similar products; choosing
                    # one opens it here
                    self.also_viewed = gr.Radio(
                        label="Shoppers who looked at this also looked at", choices=[]
                    )
                    self.goes_with = gr.Radio(label="Goes well with", choices=[])

                gr.Markdown("Suggestions", elem_classes="muted")

                self.cards_view = gr.HTML("", js_on_load=render.ACTIONS_JS, padding=False)

                with gr.Row(equal_height=False):
                    self.pick = gr.CheckboxGroup(label="Compare (2–4)", choices=[], scale=3)
                    self.compare_btn = gr.Button("Compare", size="sm", scale=1)
                self.comparison = gr.HTML()
                with gr.Accordion("Cart", open=True):
                    self.cart = gr.HTML(render.cart_html([]))

    @property
    def turn_outputs(self) -> list:
        return [
            self.session,
            self.chatbot,
            self.history,
            self.reply_ids,
            self.cards_view,
            self.chips_view,
            self.last_reply,
            self.note,
            self.pick,
            self.box,
            self.cart,
            self.detail,
            self.comparison,
        ]

    @property
    def detail_outputs(self) -> list:
        return [
            self.detail,
            self.detail_text,
            self.gallery,
            self.detail_variant,
            self.open_id,
            self.also_viewed,
            self.goes_with,
        ]

    @property
    def cart_outputs(self) -> list:
        return [self.chatbot, self.history, self.cart, self.note]

    # ---- the wiring ------------------------------------------------------------------------
    def wire(self, demo: gr.Blocks) -> None:
        demo.load(self.restore, self.session, self.turn_outputs, api_name=False)
        # the buttons inside the HTML values; what they send is a request like any other
        hidden = {"api_visibility": "undocumented"}
        self.chips_view.click(
            self.drop_chip,
            [self.session, self.history, self.reply_ids],
            self.turn_outputs,
            api_name="drop_chip",
            **hidden,
        )
        self.cards_view.click(
            self.open_pressed,
            [self.session, self.last_reply],
            self.detail_outputs,
            api_name="card_details",
            **hidden,
        )
        self.cards_view.submit(
            self.add_pressed,
            [self.session, self.last_reply, self.history, self.reply_ids],
            self.cart_outputs,
            api_name="card_add",
            **hidden,
        )
        self.box.submit(
            self.send,
            [self.box, self.session, self.history, self.reply_ids],
            self.turn_outputs,
            api_name="chat",
        )
        self.close.click(lambda: gr.update(visible=False), None, self.detail)
        self.detail_add.click(
            self.add_open,
            [
                self.session,
                self.last_reply,
                self.detail_variant,
                self.open_id,
                self.history,
                self.reply_ids,
            ],
            self.cart_outputs,
        )
        for neighbours in (self.also_viewed, self.goes_with):  # a shopper's choice, not a redraw
            neighbours.input(
                self.open_related, [self.session, self.last_reply, neighbours], self.detail_outputs
            )
        self.compare_btn.click(self.compare, self.pick, self.comparison)
        self.chatbot.like(self.rate, [self.session, self.reply_ids], None)
        self.new_chat.click(
            self.restart,
            self.session,
            [*self.turn_outputs, self.cart, self.comparison, self.detail],
            api_name="new",
        )


def build_app(assistant: Assistant, title: str = "Aisle") -> gr.Blocks:
    kept = assistant.settings.uploads_kept_s
    page = ShopperPage(assistant, title)
    with gr.Blocks(title=title, delete_cache=(min(kept, 3600), kept)) as demo:
        page.layout()
        page.wire(demo)
    return demo
