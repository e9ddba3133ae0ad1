"""Personal data sent through the chat, the agent console and feedback: nothing of it in
any file of the index folder (the event log, the conversations, the precedents, their
write-ahead logs, the vector store)."""

from __future__ import annotations

from pathlib import Path

from assistant.agent.conversation import parse_conversation
from assistant.agent.suggest import AgentAssistant
from assistant.config import Settings
from assistant.pipeline import Assistant
from retrieval.ingest import ingest

DETAILS = [
    "jo.kim@example.org",
    "GB29NWBK60161331926819",
    "DE89 3704 0044 0532 0130 00",
    "+1 415 555 0172",
    "4111 1111 1111 1111",
    "221B Baker Street, London NW1 6XE",
    "born on 12/03/1985",
]
NEEDLES = [
    b"jo.kim",
    b"example.org",
    b"gb29nwbk",
    b"3704 0044",
    b"555 0172",
    b"4111 1111",
    b"baker street",
    b"nw1 6xe",
    b"12/03/1985",
]


def test_no_file_of_the_index_folder_keeps_personal_data(tiny_catalog, tiny_config):
    ingest(tiny_catalog, tiny_config, progress=False)
    folder = Path(tiny_config.index_dir)
    settings = Settings(
        **tiny_config.model_dump(),
        conversation_store_url=f"sqlite:///{folder / 'conversations.sqlite'}",
    )
    bot = Assistant(settings, use_llm=False)
    for n, detail in enumerate(DETAILS):
        reply = bot.respond(f"s{n}", f"a jacket, my details: {detail}")
        bot.save_chat(f"s{n}", [{"role": "user", "content": f"a jacket {detail}"}])
        bot.actions.rate_reply(f"s{n}", reply.reply_id, True)
        if reply.products:
            bot.actions.open_product(f"s{n}", reply.products[0].product.id, reply.reply_id)
    agent = AgentAssistant(bot.live)
    said = "Customer: my parcel is late, " + ", ".join(DETAILS)
    messages = parse_conversation(said)
    agent.suggest(messages)
    agent.remember(messages, "We'll write to jo.kim@example.org at 221B Baker Street", "edited")
    agent.record_verdict(agent.feedback_conversation_id(said), "edited", "answer", "ana")
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert any(p.name.startswith("events.sqlite") for p in files)
    assert any(p.name.startswith("precedents.sqlite") for p in files)
    for path in files:
        data = path.read_bytes().lower()
        assert not [w for w in NEEDLES if w in data], path
