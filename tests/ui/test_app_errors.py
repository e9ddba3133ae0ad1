"""The page's failure paths, through Gradio's own client (no browser needed): an error
inside a turn shows a short apology, never a traceback; a slow or failed LLM shows a note."""

from __future__ import annotations

import os
import socket
from types import SimpleNamespace

import pytest

from assistant.config import Settings
from assistant.records import DialogueState, Reply, TurnInterpretation
from ui.app import LLM_NOTE, SORRY, build_app, shopper_note, streamed
from ui.render import from_plain_text


class Exploding:
    """Stands in for `Assistant` where the test needs a turn to fail."""

    has_photos = False
    settings = Settings()
    parts = SimpleNamespace(feedback=SimpleNamespace(salt="a salt"))

    def example_request(self):
        return "something nice"

    def respond(self, session, message, image=None, on_token=None):
        if on_token:
            on_token("Here are")
        raise RuntimeError("database is on fire\nTraceback (most recent call last): ...")

    def reset(self, session):
        pass

    def chat(self, session):
        return []


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_failing_turn_shows_an_apology_not_a_traceback():
    from gradio_client import Client

    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    demo = build_app(Exploding())
    demo.queue()
    _, url, _ = demo.launch(server_port=_port(), prevent_thread_lock=True, quiet=True)
    try:
        out = Client(url, verbose=False).predict(
            {"text": "a jacket", "files": []}, "", api_name="/chat"
        )
        chat = out[1]  # after the conversation id
    finally:
        demo.close()
    last = from_plain_text(chat[-1]["content"][0]["text"])
    assert SORRY in last and "Traceback" not in last and "fire" not in last


def test_streamed_yields_text_then_the_reply_and_reraises():
    reply = Reply(
        text="a\nb",
        intent="search",
        state=DialogueState(),
        interpretation=TurnInterpretation(intent="search"),
    )

    import threading

    shown = threading.Event()

    def call(on_token):
        on_token("a\n")
        shown.wait(timeout=10)  # the page drew "a" before "b" was written
        on_token("b")
        return reply

    steps = []
    for step in streamed(call):
        steps.append(step)
        shown.set()
    assert steps == ["a\n", reply]  # what was written while the page waited, then the reply

    def burst(on_token):  # a reply written at once reaches the page as one update
        for piece in ["x ", "y ", "z"]:
            on_token(piece)
        return reply

    assert list(streamed(burst, every=5.0)) == [reply]

    def slow(on_token):  # nothing written yet: the page hears so, to show the message
        shown.clear()
        shown.wait(timeout=10)
        on_token("late")
        return reply

    steps = []
    for step in streamed(slow, every=0.01):
        steps.append(step)
        shown.set()
    assert steps[0] == "" and steps[-1] is reply

    def failing(on_token):
        raise KeyError("x")

    with pytest.raises(KeyError):
        list(streamed(failing))


def test_the_shopper_sees_one_short_note_when_the_llm_was_not_used():
    assert shopper_note(["LLM unavailable (timeout after 8 s); replies are built"]) == LLM_NOTE
    assert (
        shopper_note(["LLM reason for [2] replaced by one built from the catalog: $5"]) == LLM_NOTE
    )
    assert shopper_note(["first draft regenerated"]) == ""
