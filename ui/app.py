"""The shopper's page: chat on the left, the suggested products on the right.

Everything a shopper does goes through `Assistant`; this module only draws and wires.
Per-browser state (the conversation id, the reply being looked at) lives in `gr.State`,
so shoppers using the page at the same time never see each other's chat, cart or results.
"""

from __future__ import annotations

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


def build_app(assistant: Assistant, title: str = "Aisle") -> gr.Blocks:
    example = assistant.example_request()  # in this shop's words, not another shop's
    kept = assistant.settings.uploads_kept_s
    with gr.Blocks(title=title, delete_cache=(min(kept, 3600), kept)) as demo:
        # The conversation id, kept by the browser (localStorage); all else is in the
        # conversation store, so a reload, a restart or another worker continues it.
        session = gr.BrowserState(
            "", storage_key="aisle-conversation", secret=browser_secret(assistant)
        )
        history = gr.State([])  # chat messages as drawn
        reply_ids = gr.State([])  # reply id per chat message ("" for others), for thumbs
        last_reply = gr.State("")
        open_id = gr.State("")

        with gr.Row(equal_height=False):
            gr.Markdown(f"## {title} · your shopping assistant")
            new_chat = gr.Button("New conversation", size="sm", scale=0, min_width=160)
        with gr.Row(equal_height=False):
            with gr.Column(scale=5, min_width=320):
                chatbot = gr.Chatbot(
                    height=460,
                    latex_delimiters=[],  # "$57 or $47" is prices, not a formula
                    label="Chat",
                    placeholder=f"Ask for something — “{example}”"
                    + (" — or add a photo." if assistant.has_photos else "."),
                )

                # drawn as one HTML value, not a render of buttons (`render.chips_html`)
                chips_view = gr.HTML("", js_on_load=render.ACTIONS_JS, padding=False)

                box = gr.MultimodalTextbox(
                    placeholder="Type a message, or paste/upload a photo…",
                    file_types=["image"],
                    file_count="single",
                    show_label=False,
                    submit_btn=True,
                )
                note = gr.Markdown("", elem_classes="note")
            with gr.Column(scale=6, min_width=320):
                with gr.Column(visible=False) as detail:
                    with gr.Row():
                        gr.Markdown("### Product details")
                        close = gr.Button("Close", size="sm", scale=0, min_width=80)
                    gallery = gr.Gallery(label="Photos", columns=4, height=220, allow_preview=True)
                    detail_text = gr.HTML()
                    with gr.Row():
                        detail_variant = gr.Dropdown(label="Option", choices=[], scale=3)
                        detail_add = gr.Button("Add to cart", variant="primary", scale=1)
                    # from the event log's sessions, filled with similar products; choosing
                    # one opens it here
                    also_viewed = gr.Radio(
                        label="Shoppers who looked at this also looked at", choices=[]
                    )
                    goes_with = gr.Radio(label="Goes well with", choices=[])

                gr.Markdown("Suggestions", elem_classes="muted")

                cards_view = gr.HTML("", js_on_load=render.ACTIONS_JS, padding=False)

                with gr.Row(equal_height=False):
                    pick = gr.CheckboxGroup(label="Compare (2–4)", choices=[], scale=3)
                    compare_btn = gr.Button("Compare", size="sm", scale=1)
                comparison = gr.HTML()
                with gr.Accordion("Cart", open=True):
                    cart = gr.HTML(render.cart_html([]))

        turn_outputs = [
            session,
            chatbot,
            history,
            reply_ids,
            cards_view,
            chips_view,
            last_reply,
            note,
            pick,
            box,
            cart,
            detail,
            comparison,
        ]
        detail_outputs = [
            detail,
            detail_text,
            gallery,
            detail_variant,
            open_id,
            also_viewed,
            goes_with,
        ]
        cart_outputs = [chatbot, history, cart, note]

        # ---- handlers (closures over `assistant`) -----------------------------------
        def after(reply: Reply, session_id: str, hist: list, ids: list) -> dict:
            hist[-1] = (
                {"role": "assistant", "content": render.compare_markdown(reply.table)}
                if reply.table
                else said("assistant", reply.text)
            )
            assistant.save_chat(session_id, hist)
            # aligned with the chat's messages: thumbs on message i rate reply ids[i]
            ids = [*ids, *[""] * (len(hist) - len(ids))]
            ids[-1] = reply.reply_id
            out = {
                session: session_id,
                chatbot: hist,
                history: hist,
                reply_ids: ids,
                chips_view: render.chips_html(reply.chips),
                note: shopper_note(reply.notes),
                cart: render.cart_html(reply.state.cart),
            }
            if reply.reasons:  # a new set of products: new cards, nothing stale left open
                product_cards = assistant.actions.cards(reply)
                out |= {
                    cards_view: render.cards_html(product_cards),
                    last_reply: reply.reply_id,
                    pick: gr.update(
                        choices=[(c.title, c.product_id) for c in product_cards], value=[]
                    ),
                    detail: gr.update(visible=False),
                    comparison: "",
                }
            return out

        def run_turn(
            call, session_id: str, hist: list, ids: list, opening: dict | None = None
        ) -> Iterator[dict]:
            """The turn's page updates. `opening` (the shopper's message drawn, the box
            cleared) goes with the first of them: a quick turn is one update."""
            hist = [*hist, {"role": "assistant", "content": "…"}]
            pending = dict(opening or {})
            try:
                for step in streamed(call):
                    if isinstance(step, Reply):
                        yield pending | after(step, session_id, hist, ids)
                    else:
                        if step:
                            hist[-1] = said("assistant", step)
                        yield pending | {chatbot: hist, history: hist, note: ""}
                    pending = {}
            except ValueError as exc:  # the shopper's input (e.g. an unreadable photo)
                hist[-1] = said("assistant", f"Sorry, I couldn't use that: {exc}")
                yield pending | {chatbot: hist, history: hist}
            except Exception:
                log.exception("turn failed")
                hist[-1] = said("assistant", SORRY)
                yield pending | {chatbot: hist, history: hist}

        def send(message: dict, session_id: str, hist: list, ids: list, request: gr.Request):
            session_id = session_id or conversation_id(request)
            text = (message or {}).get("text", "").strip()
            files = [
                f if isinstance(f, str) else f["path"] for f in (message or {}).get("files", [])
            ]
            try:  # a path in the request is only opened if the upload route wrote it
                image = str(uploaded(files[0])) if files else None
            except ValueError as exc:
                yield {session: session_id, note: f"Couldn't use that photo: {exc}"}
                return
            if not text and not image:
                yield {session: session_id}
                return
            hist = list(hist)
            if image:
                hist.append({"role": "user", "content": {"path": image}})
            if text:  # as the assistant read it: contact details are never kept
                hist.append(said("user", redact(text)))
            # the box clears with the turn's first page update
            yield from run_turn(
                lambda on_token: assistant.respond(session_id, text, image, on_token),
                session_id,
                hist,
                ids,
                opening={session: session_id, box: None},
            )

        def chip_of(session_id: str, key: str) -> Chip | None:
            """The conversation's chip with this key (None for a stale or forged one)."""
            if not session_id:
                return None
            chips = chips_of(assistant.state(session_id), assistant.parts.lexicon.currency)
            return next((c for c in chips if c.key == key), None)

        def drop_chip(event: gr.EventData, session_id: str, hist: list, ids: list):
            pressed = _pressed(event)
            chip = chip_of(session_id, str(pressed.get("chip") or ""))
            if chip is None:  # a stale page, or a request not from it
                yield {note: "That constraint is no longer in this conversation."}
                return
            if pressed.get("action") == "strict":  # a soft chip's "only": it filters now
                hist = [*hist, said("user", f"(only “{chip.label}”)")]
                act = assistant.make_strict
            else:
                hist = [*hist, said("user", f"(removed “{chip.label}”)")]
                act = assistant.drop_constraint
            yield from run_turn(
                lambda on_token: act(session_id, chip.key, on_token), session_id, hist, ids
            )

        def open_card(product_id: str):
            def handler(session_id: str, reply_id: str):
                view = assistant.actions.open_product(
                    session_id or "anonymous", product_id, reply_id
                )
                related = view.related
                lists = (related.also_viewed, related.goes_with) if related else ([], [])
                return (
                    gr.update(visible=True),
                    render.detail_html(view),
                    view.photos,
                    gr.update(
                        choices=view.variants, value=view.variants[0] if view.variants else None
                    ),
                    product_id,
                    *[
                        gr.update(
                            choices=render.related_choices(n, goes), value=None, visible=bool(n)
                        )
                        for n, goes in zip(lists, (False, True), strict=True)
                    ],
                )

            return handler

        def open_related(session_id: str, reply_id: str, product_id: str | None):
            if not product_id:
                return [gr.skip()] * len(detail_outputs)
            return open_card(product_id)(session_id, reply_id)

        def add_to_cart(product_id: str):
            def handler(session_id, reply_id, option, hist, ids, request: gr.Request):
                session_id = session_id or conversation_id(request)
                try:
                    confirmed, items = assistant.actions.add_variant(
                        session_id, product_id, option, reply_id
                    )
                except ValueError as exc:
                    return gr.skip(), gr.skip(), gr.skip(), f"Couldn't add that: {exc}"
                hist = [*hist, said("assistant", confirmed)]
                assistant.save_chat(session_id, hist)
                return hist, hist, render.cart_html(items), ""

            return handler

        def open_pressed(event: gr.EventData, session_id: str, reply_id: str):
            product_id = str(_pressed(event).get("product") or "")
            try:
                return open_card(product_id)(session_id, reply_id)
            except ValueError:  # not a product of this catalog (a stale or forged request)
                return [gr.skip()] * len(detail_outputs)

        def add_pressed(event: gr.EventData, session_id, reply_id, hist, ids, request: gr.Request):
            data = _pressed(event)
            option = data.get("option")
            return add_to_cart(str(data.get("product") or ""))(
                session_id, reply_id, None if option is None else str(option), hist, ids, request
            )

        def add_open(session_id, reply_id, option, product_id, hist, ids, request: gr.Request):
            if not product_id:
                return gr.skip(), gr.skip(), gr.skip(), "Open a product first."
            return add_to_cart(product_id)(session_id, reply_id, option, hist, ids, request)

        def compare(ids: list[str]):
            try:
                return render.compare_html(assistant.actions.compare(ids or []))
            except ValueError as exc:
                return f'<p class="muted">{exc}</p>'

        def rate(event: gr.LikeData, session_id: str, ids: list):
            at = event.index if isinstance(event.index, int) else event.index[0]
            if session_id and 0 <= at < len(ids) and ids[at]:
                assistant.actions.rate_reply(session_id, ids[at], bool(event.liked))

        def restore(session_id: str) -> dict:
            """The page opened: draw the conversation this browser had, if it is stored."""
            if not session_id:  # a first visit: the first message makes the id
                return {session: session_id}  # (an empty dict reads as one value to Gradio)
            state, hist = assistant.state(session_id), assistant.chat(session_id)
            product_cards = assistant.actions.shown_cards(state)
            return {
                session: session_id,
                chatbot: hist,
                history: hist,
                reply_ids: [""] * len(hist),  # thumbs count for replies of this visit
                cards_view: render.cards_html(product_cards),
                chips_view: render.chips_html(chips_of(state, assistant.parts.lexicon.currency)),
                last_reply: state.shown_reply,
                pick: gr.update(choices=[(c.title, c.product_id) for c in product_cards]),
                cart: render.cart_html(state.cart),
            }

        def restart(session_id: str) -> dict:
            if session_id:
                assistant.reset(session_id)
            return {
                session: uuid.uuid4().hex,
                chatbot: [],
                history: [],
                reply_ids: [],
                cards_view: "",
                chips_view: "",
                last_reply: "",
                note: "",
                pick: gr.update(choices=[], value=[]),
                box: None,
                cart: render.cart_html([]),
                detail: gr.update(visible=False),
                comparison: "",
            }

        demo.load(restore, session, turn_outputs, api_name=False)
        # the buttons inside the HTML values; what they send is a request like any other
        hidden = {"api_visibility": "undocumented"}
        chips_view.click(
            drop_chip, [session, history, reply_ids], turn_outputs, api_name="drop_chip", **hidden
        )
        cards_view.click(
            open_pressed, [session, last_reply], detail_outputs, api_name="card_details", **hidden
        )
        cards_view.submit(
            add_pressed,
            [session, last_reply, history, reply_ids],
            cart_outputs,
            api_name="card_add",
            **hidden,
        )
        box.submit(send, [box, session, history, reply_ids], turn_outputs, api_name="chat")
        close.click(lambda: gr.update(visible=False), None, detail)
        detail_add.click(
            add_open,
            [session, last_reply, detail_variant, open_id, history, reply_ids],
            cart_outputs,
        )
        for neighbours in (also_viewed, goes_with):  # a shopper's choice, not a redraw
            neighbours.input(open_related, [session, last_reply, neighbours], detail_outputs)
        compare_btn.click(compare, pick, comparison)
        chatbot.like(rate, [session, reply_ids], None)
        new_chat.click(restart, session, [*turn_outputs, cart, comparison, detail], api_name="new")
    return demo
