"""The LLM backends through the same chat-model interface: transformers with a tiny random
model built here, and an OpenAI-compatible server (llama.cpp's own, on loopback)."""

import json
import re

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from assistant.llm import ChatLlamaCpp, ChatTransformers, _llama_server, chat_json, make_chat_model
from assistant.llm_models import LLMUnavailableError, resolve_gguf
from assistant.llm_settings import LLMConfig

MESSAGES = [SystemMessage(content="You answer briefly."), HumanMessage(content="Say hi")]


@pytest.fixture(scope="session")
def tiny_causal_lm(tmp_path_factory) -> str:
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-lm")
    vocab = {
        t: i for i, t in enumerate(["<unk>", "<s>", "</s>", *'abcdefghijklmnopqrstuvwxyz{}":, '])
    }
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Split("", "isolated")
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>"
    )
    fast.chat_template = "{% for m in messages %}{{ m['content'] }} {% endfor %}"
    fast.save_pretrained(folder)
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(vocab),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=256,
        bos_token_id=1,
        eos_token_id=2,
    )
    LlamaForCausalLM(config).save_pretrained(folder)
    return str(folder)


def test_transformers_backend_generates_and_streams(tiny_causal_lm):
    llm = make_chat_model(
        LLMConfig(llm_backend="transformers", llm_model=tiny_causal_lm, llm_max_tokens=16)
    )
    assert isinstance(llm, ChatTransformers)
    text = llm.invoke(MESSAGES).content
    assert isinstance(text, str)
    streamed = "".join(str(c.content) for c in llm.stream(MESSAGES))
    assert streamed.replace(" ", "") == text.replace(" ", "")  # greedy: the same tokens
    # no constrained decoding here: a non-JSON answer is an error the caller handles
    with pytest.raises(ValueError):
        chat_json(llm, MESSAGES, {"type": "object"}, timeout_s=30, max_tokens=8)


def test_llamacpp_backend_constrains_json_to_the_schema():
    llm = make_chat_model(LLMConfig(llm_backend="llamacpp", llm_model="smollm2-135m"))
    assert isinstance(llm, ChatLlamaCpp)
    schema = {
        "type": "object",
        "properties": {"intent": {"type": "string", "enum": ["search", "smalltalk"]}},
        "required": ["intent"],
    }
    out = chat_json(llm, MESSAGES, schema, timeout_s=60, max_tokens=30)
    assert out["intent"] in ("search", "smalltalk")


def test_llamacpp_writes_the_json_on_one_line_with_no_other_keys():
    """Every token of a reading costs ~90 ms on 2 cores: no indent, no spaces, no key the
    schema does not have (through `response_format` the model pretty-printed it)."""
    llm = make_chat_model(LLMConfig(llm_backend="llamacpp", llm_model="smollm2-135m"))
    schema = {
        "type": "object",
        "properties": {
            "intent": {"type": "string", "enum": ["search", "smalltalk"]},
            "need": {"type": "string", "maxLength": 20},
            "price_max": {"type": ["number", "null"]},
        },
        "required": ["intent", "need"],
    }
    ask = [*MESSAGES[:1], HumanMessage(content="Fill the JSON for: a cheap red jacket")]
    text = str(llm.bind(json_schema=schema, max_tokens=60).invoke(ask).content)
    out = json.loads(text)
    assert set(out) <= set(schema["properties"]) and {"intent", "need"} <= set(out)
    outside_strings = re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)
    assert not re.search(r"\s", outside_strings), text


def test_the_first_token_is_noted_before_the_answer_is_whole():
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    seen: list[str] = []
    llm = FakeListChatModel(responses=['{"intent": "search"}'])
    out = chat_json(
        llm, MESSAGES, {"type": "object"}, 10, 20, on_first_token=lambda: seen.append("first")
    )
    assert out == {"intent": "search"} and seen == ["first"]


def test_openai_compatible_backend_against_a_local_server():
    """llama.cpp's server speaks the OpenAI API; the xllamacpp server listens on loopback."""
    server = _llama_server(str(resolve_gguf("smollm2-135m")), 4096, 0, 0)
    address = server.listening_address
    url = address if address.startswith("http") else f"http://{address}"
    llm = make_chat_model(
        LLMConfig(
            llm_backend="openai",
            llm_url=f"{url}/v1",
            llm_model="smollm2",
            llm_max_tokens=16,
            llm_timeout_s=60,
        )
    )
    assert isinstance(llm.invoke(MESSAGES).content, str)
    out = chat_json(
        llm,
        MESSAGES,
        {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
        timeout_s=60,
        max_tokens=20,
    )
    assert isinstance(out["a"], int)


def test_a_server_that_is_down_is_named():
    llm = make_chat_model(
        LLMConfig(llm_backend="openai", llm_url="http://127.0.0.1:9/v1", llm_timeout_s=5)
    )
    with pytest.raises(LLMUnavailableError):
        chat_json(llm, MESSAGES, {"type": "object"}, timeout_s=10, max_tokens=8)
    with pytest.raises(LLMUnavailableError, match="needs llm_url"):
        make_chat_model(LLMConfig(llm_backend="openai"))


def test_unknown_models_and_backends_are_named():
    with pytest.raises(LLMUnavailableError, match="not a file"):
        resolve_gguf("no-such-model")
    with pytest.raises(LLMUnavailableError, match="unknown llm_backend"):
        make_chat_model(LLMConfig(llm_backend="magic"))
    assert json.dumps(LLMConfig().model_dump())  # settings serialise


def test_a_repeat_penalty_is_sent_only_where_asked():
    """The reader asks for one (its lists looped without); agent drafts do not."""
    llm = ChatLlamaCpp(model_path="unused.gguf")
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    asked = llm._payload(MESSAGES, None, json_schema=schema, repeat_penalty=1.2)
    assert asked["repeat_penalty"] == 1.2 and asked["grammar"].startswith("%llguidance")
    assert '"additionalProperties": false' in asked["grammar"]
    plain = llm._payload(MESSAGES, None, json_schema=schema, repeat_penalty=None)
    assert "repeat_penalty" not in plain and "response_format" not in plain
