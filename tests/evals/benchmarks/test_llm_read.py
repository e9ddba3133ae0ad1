"""The LLM-reading benchmark's two readings, with a scripted chat model on three catalogs:
the baseline keeps the old prompt (one message, shown titles), and a reading is timed and
checked against the shopper's words the way the reader checks it."""

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from assistant.records import DialogueState, ShownItem
from evals.benchmarks.llm_read import ReaderBefore, timed_reading
from tests.assistant.conftest import shop


@pytest.mark.parametrize("name", ["luma", "vendure", "grocery"])
def test_both_readings_are_timed_and_checked(name):
    words, view = shop(name)
    shown = [ShownItem(product_id="P1", title="Shown One", price=5.0, category="")]
    state = DialogueState(need="something", shown=shown)
    llm = FakeListChatModel(responses=['{"intent": "cart", "need": "invented words"}'])
    before = ReaderBefore(words, view, llm)
    messages = before._messages("the first one please", state)
    assert len(messages) == 2 and "Shown One" in messages[1].content  # the old prompt
    read = timed_reading(before, "the first one please", state)
    assert 0 <= read["first_ms"] <= read["ms"]
    # "cart" without the words for it is refused and counted as invented
    assert read["intent"] != "cart" and read["invented"] >= 1
