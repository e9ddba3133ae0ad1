"""The chat lives with its conversation: a page session that moves between conversation ids
never carries one's messages into another's."""

from __future__ import annotations

import types

import gradio as gr

from assistant.config import Settings
from assistant.pipeline import Assistant
from retrieval.ingest import ingest
from ui.app import ShopperPage


def test_each_conversation_keeps_its_own_chat(tiny_catalog, tiny_config):
    ingest(tiny_catalog, tiny_config, progress=False)
    bot = Assistant(Settings(**tiny_config.model_dump()), use_llm=False)
    page = ShopperPage(bot)
    with gr.Blocks():
        page.layout()
    request = types.SimpleNamespace(session_hash="one-page-session")
    a, b = page.sign("conv-a"), page.sign("conv-b")  # ids the shop issued
    list(page.send({"text": "a jacket, alpha"}, a, [], [], request))
    page_history = bot.chat(a)  # what this page session holds now
    assert "alpha" in str(page_history)
    list(page.send({"text": "a backpack"}, b, page_history, [], request))
    chat_b = str(bot.chat(b))
    assert "backpack" in chat_b and "alpha" not in chat_b
    assert "backpack" not in str(bot.chat(a))


def test_a_conversation_id_no_page_was_given_opens_nothing(tiny_catalog, tiny_config):
    """Ids are signed where they are issued: a made-up or altered one can neither read,
    continue nor clear a conversation."""
    ingest(tiny_catalog, tiny_config, progress=False)
    bot = Assistant(Settings(**tiny_config.model_dump()), use_llm=False)
    page = ShopperPage(bot)
    with gr.Blocks():
        page.layout()
    mine = page.sign("a-conversation")
    list(page.send({"text": "a jacket, alpha"}, mine, [], [], None))
    altered = mine[:-1] + ("1" if mine[-1] == "0" else "0")  # always differs from the signature
    for forged in ["a-conversation", altered, mine + "x", "", None]:
        assert page.checked(forged) == ""
        restored = page.restore(forged)
        assert "alpha" not in str(restored)  # nothing of the conversation is read
        page.restart(forged)
        assert "alpha" in str(bot.chat(mine))  # nor is it cleared
    assert page.checked(mine) == mine and "alpha" in str(page.restore(mine))
    page.restart(mine)  # the page that holds it may clear it
    assert bot.chat(mine) == []
