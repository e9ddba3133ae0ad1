"""The LLM's reading of an unsure turn, on the three catalogs: a prompt whose fixed part (the
instructions and this catalog's examples) is the same for every turn, so llama.cpp computes
it once, and a turn's own part that holds only what the turn has."""

import json
import threading
import time

from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from assistant.records import DialogueState
from assistant.understanding.llm_reader import Interpreter


class Recording(FakeListChatModel):
    """A scripted chat model that keeps the messages it was sent."""

    sent: list = []

    def _call(self, messages, stop=None, run_manager=None, **kwargs):
        self.sent.append(messages)
        return super()._call(messages, stop, run_manager, **kwargs)

    def _stream(self, messages, stop=None, run_manager=None, **kwargs):
        self.sent.append(messages)
        yield from super()._stream(messages, stop, run_manager, **kwargs)


def test_the_fixed_prompt_is_the_same_for_every_turn(any_shop, shown_state):
    name, (words, view) = any_shop
    reader = Interpreter(words, view)
    fresh = reader._messages("something for a present", DialogueState())
    later = reader._messages("the second one, cheaper?", shown_state)
    assert fresh[:-1] == later[:-1] and fresh[-1] != later[-1]
    assert isinstance(fresh[0], SystemMessage)
    examples = fresh[1:-1]  # earlier turns of the chat: a message, then its one-line JSON
    assert examples and len(examples) % 2 == 0
    keys = set(reader.schema(5)["properties"])
    for asked, answer in zip(examples[::2], examples[1::2], strict=True):
        assert isinstance(asked, HumanMessage) and isinstance(answer, AIMessage)
        parsed = json.loads(answer.content)
        assert set(parsed) <= keys and "\n" not in answer.content and ": " not in answer.content
    # the turn's own part: its words and the context it has, products counted, not listed
    assert fresh[-1].content == "something for a present"
    last = later[-1].content
    assert last.endswith("the second one, cheaper?") and '"warm jacket"' in last
    assert "products_shown: 5" in last and "Item 1" not in last


def test_a_reading_is_timed_and_warming_sends_the_same_fixed_prompt(any_shop, shown_state):
    name, (words, view) = any_shop
    llm = Recording(responses=['{"intent": "refine", "need": ""}'] * 3)
    llm.sent = []
    reader = Interpreter(words, view, llm)
    reader.warm()
    reading = reader.interpret("hmm, maybe something else", shown_state, force_llm=True)
    assert reading.llm_called and reading.llm_ms is not None
    assert 0 <= reading.llm_first_token_ms <= reading.llm_ms
    warmed, read = llm.sent
    assert warmed[:-1] == read[:-1]


def test_no_llm_no_warming_and_no_timing(any_shop):
    name, (words, view) = any_shop
    reader = Interpreter(words, view)
    reader.warm()  # nothing to warm: no error
    reading = reader.interpret("hmm, maybe something else", DialogueState(), force_llm=True)
    assert not reading.llm_called and reading.llm_ms is None


def test_prices_the_rules_read_are_not_added_to_by_the_llm(any_shop):
    """The LLM read "under 2.50" as a lower bound too (the number is in the text, so the
    check let it through): where the money reader read a price, its reading stands."""
    name, (words, view) = any_shop
    llm = FakeListChatModel(responses=['{"intent": "refine", "need": "", "price_min": 2.5}'])
    reader = Interpreter(words, view, llm)
    state = DialogueState(need="something")
    reading = reader.interpret("under 2.50", state, force_llm=True).turn
    assert reading.constraints.price_max == 2.5 and reading.constraints.price_min is None
    # a turn without a price the rules could read still takes the LLM's, if the shopper said it
    llm = FakeListChatModel(responses=['{"intent": "search", "need": "", "price_max": 40}'])
    reading = Interpreter(words, view, llm).interpret("nothing past 40", state, force_llm=True)
    assert reading.turn.constraints.price_max in (40, 40.0)


class Slow(FakeListChatModel):
    """A chat model that writes a hundred pieces, one every 50 ms; it notes the pieces it
    wrote, and whether its reader stopped it before the end."""

    written: list = []
    stopped: threading.Event = threading.Event()

    def _stream(self, messages, stop=None, run_manager=None, **kwargs):
        from langchain_core.messages import AIMessageChunk
        from langchain_core.outputs import ChatGenerationChunk

        try:
            for piece in ['{"intent": ', '"search", ', '"need": ', '"x"', "}"] * 20:
                time.sleep(0.05)
                self.written.append(piece)
                yield ChatGenerationChunk(message=AIMessageChunk(content=piece))
        except GeneratorExit:  # the stream closed by the reader that gave up
            self.stopped.set()
            raise


def test_past_its_budget_the_rules_serve_the_turn_and_the_llm_stops(any_shop):
    from assistant.llm_settings import LLMConfig

    name, (words, view) = any_shop
    llm = Slow(responses=["-"])
    llm.written, llm.stopped = [], threading.Event()
    reader = Interpreter(words, view, llm, LLMConfig(llm_read_budget_ms=200))
    reading = reader.interpret("hmm, something nice", DialogueState(), force_llm=True)
    assert reading.llm_called and reading.turn.source == "rules" and len(llm.written) < 100
    assert any("did not finish within 0.2 s" in n for n in reading.notes), reading.notes
    assert llm.stopped.wait(timeout=10)  # it stops at its next piece, not after a hundred
    assert len(llm.written) < 100


def test_a_turn_tokenises_its_message_once(any_shop, shown_state, monkeypatch):
    """The rules, the LLM's checks and the language guess share one reading of the message."""
    from assistant.understanding import words as words_module

    name, (words, view) = any_shop
    text = "hmm, je cherche quelque chose de moins cher"
    calls = []
    real = words_module.part_spans
    monkeypatch.setattr(words_module, "part_spans", lambda t: calls.append(t) or real(t))
    llm = Recording(responses=['{"intent": "refine", "need": "cheaper"}'])
    Interpreter(words, view, llm).interpret(text, shown_state, force_llm=True)
    assert calls.count(text) == 1
