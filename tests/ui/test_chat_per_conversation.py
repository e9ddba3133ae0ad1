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
    list(page.send({"text": "a jacket, alpha"}, "conv-a", [], [], request))
    page_history = bot.chat("conv-a")  # what this page session holds now
    assert "alpha" in str(page_history)
    list(page.send({"text": "a backpack"}, "conv-b", page_history, [], request))
    chat_b = str(bot.chat("conv-b"))
    assert "backpack" in chat_b and "alpha" not in chat_b
    assert "backpack" not in str(bot.chat("conv-a"))
