"""Chat LLM backends behind langchain-core's chat-model interface, so they swap by config:

- `llamacpp`: GGUF in-process through xllamacpp (llama.cpp; the CPU default), with
  JSON-schema constrained decoding;
- `transformers`: a transformers causal LM (bf16 on a GPU, the GPU default; CPU works);
- `openai`: any OpenAI-compatible server by URL (vLLM, llama.cpp server).

Models load once per process (`functools.cache` on the loaders).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from .llm_models import LLMUnavailableError, resolve_gguf
from .llm_settings import LLMConfig


def _role(message: BaseMessage) -> str:
    return {"human": "user", "ai": "assistant", "system": "system"}.get(message.type, "user")


def _as_dicts(messages: list[BaseMessage]) -> list[dict[str, str]]:
    return [{"role": _role(m), "content": str(m.content)} for m in messages]


@functools.cache
def _llama_server(
    path: str,
    n_ctx: int,
    threads: int,
    gpu_layers: int,
    host: str = "127.0.0.1",
    port: int = 0,
    parallel: int = 1,
):
    """llama.cpp's server, in process. It also answers HTTP (OpenAI's API) on `host:port`:
    a free loopback port when used in process, a chosen one for `aisle llm-server`."""
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = path
    params.n_ctx = n_ctx * parallel  # the context is shared by the parallel slots
    params.n_parallel = parallel
    params.hostnames = [host]
    params.port = port
    params.n_gpu_layers = gpu_layers
    params.warmup = False
    params.verbosity = -1  # llama.cpp logs every request to stderr otherwise; errors still raise
    params.cpuparams.n_threads = threads or (os.cpu_count() or 2)
    params.cpuparams_batch.n_threads = threads or (os.cpu_count() or 2)
    try:
        return xllamacpp.Server(params)
    except Exception as exc:  # a bad file raises from the C++ side
        raise LLMUnavailableError(f"llama.cpp could not load {path}: {exc}") from exc


def serve_llm(
    config: LLMConfig, host: str, port: int, parallel: int = 2, device: str = "cpu"
) -> str:
    """Start llama.cpp's OpenAI-compatible HTTP server on the configured GGUF model, for
    several `aisle serve` workers to share (`--llm-url <address>/v1`). Returns the address;
    the server runs until the process ends."""
    path = str(resolve_gguf(config.llm_model))
    server = _llama_server(
        path,
        config.llm_context,
        config.llm_threads,
        -1 if device.startswith("cuda") else 0,
        host,
        port,
        parallel,
    )
    return server.listening_address


def compact_json_grammar(schema: dict) -> str:
    """llama.cpp's grammar for one JSON object matching `schema`, written on one line with no
    spaces and no keys beyond the schema's. Through `response_format` llama.cpp lets the model
    pretty-print: measured on the turn reader, a newline and indent per field and every empty
    field written out took 74 tokens where 27 said the same (5.2 s → 3.1 s a reading with
    qwen2.5-1.5b on 2 cores). The grammar is llguidance's, which this llama.cpp build uses
    for JSON schemas anyway; `x-guidance` is its documented switch for the separators."""
    compact = {
        "additionalProperties": False,
        **schema,
        "x-guidance": {"whitespace_flexible": False, "item_separator": ",", "key_separator": ":"},
    }
    return "%llguidance {}\nstart: %json " + json.dumps(compact)


class ChatLlamaCpp(BaseChatModel):
    """llama.cpp in process (xllamacpp's OpenAI-style handler)."""

    model_path: str
    n_ctx: int = 4096
    n_threads: int = 0
    n_gpu_layers: int = 0
    max_tokens: int = 320
    temperature: float = 0.0

    @property
    def _llm_type(self) -> str:
        return "llamacpp"

    def _server(self):
        return _llama_server(self.model_path, self.n_ctx, self.n_threads, self.n_gpu_layers)

    def _payload(self, messages, stop, **kwargs) -> dict[str, Any]:
        payload = {
            "messages": _as_dicts(messages),
            "max_tokens": kwargs.pop("max_tokens", self.max_tokens),
            "temperature": kwargs.pop("temperature", self.temperature),
        }
        if stop:
            payload["stop"] = stop
        if schema := kwargs.pop("json_schema", None):
            payload["grammar"] = compact_json_grammar(schema)
        if penalty := kwargs.pop("repeat_penalty", None):
            payload |= {"repeat_penalty": penalty, "repeat_last_n": 48}
        return payload

    def _generate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:
        result = self._server().handle_chat_completions(self._payload(messages, stop, **kwargs))
        if "error" in result:
            raise LLMUnavailableError(f"llama.cpp: {result['error']}")
        text = result["choices"][0]["message"].get("content") or ""
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(
        self, messages, stop=None, run_manager=None, **kwargs
    ) -> Iterator[ChatGenerationChunk]:
        payload = {**self._payload(messages, stop, **kwargs), "stream": True}
        chunks: queue.Queue = queue.Queue()
        done = object()
        gone = threading.Event()  # the reader stopped reading: llama.cpp stops generating

        def on_chunk(item) -> bool:
            chunks.put(item)
            return gone.is_set()  # True ends xllamacpp's stream, and with it the generation

        def run() -> None:
            try:
                self._server().handle_chat_completions(payload, on_chunk)
            except Exception as exc:  # surfaced to the reader below
                chunks.put(exc)
            chunks.put(done)

        # not a daemon: a process that exits waits for the generation to stop at its next
        # token, instead of killing llama.cpp mid-call (which aborts the process)
        threading.Thread(target=run, name="llama.cpp").start()
        try:
            while (item := chunks.get()) is not done:
                if isinstance(item, Exception):
                    raise LLMUnavailableError(f"llama.cpp: {item}") from item
                if "error" in item:
                    raise LLMUnavailableError(f"llama.cpp: {item['error']}")
                delta = item["choices"][0].get("delta", {}).get("content")
                if delta:
                    if run_manager:
                        run_manager.on_llm_new_token(delta)
                    yield ChatGenerationChunk(message=AIMessageChunk(content=delta))
        finally:
            gone.set()


@functools.cache
def _hf_model(ref: str, device: str):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = Path(ref).expanduser()
    kwargs: dict[str, Any] = {}
    if path.is_file() and path.suffix == ".gguf":  # transformers dequantises a GGUF (needs gguf)
        kwargs["gguf_file"] = path.name
        ref = str(path.parent)
    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    try:
        tokenizer = AutoTokenizer.from_pretrained(ref, **kwargs)
        model = AutoModelForCausalLM.from_pretrained(ref, dtype=dtype, **kwargs).to(device).eval()
    except Exception as exc:
        raise LLMUnavailableError(f"transformers could not load {ref!r}: {exc}") from exc
    return tokenizer, model


class ChatTransformers(BaseChatModel):
    """A transformers causal LM with its chat template (bf16 on a GPU)."""

    model_ref: str
    device: str = "cpu"
    max_tokens: int = 320

    @property
    def _llm_type(self) -> str:
        return "transformers"

    def _inputs(self, messages, **kwargs):
        tokenizer, model = _hf_model(self.model_ref, self.device)
        chat = _as_dicts(messages)
        if schema := kwargs.get("json_schema"):  # no grammar here: ask, then validate
            chat[0]["content"] += "\nAnswer with one JSON object matching: " + json.dumps(schema)
        ids = tokenizer.apply_chat_template(
            chat, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        return tokenizer, model, ids.to(self.device)

    def _generate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:
        import torch

        tokenizer, model, inputs = self._inputs(messages, **kwargs)
        with torch.inference_mode():
            out = model.generate(
                **inputs,
                max_new_tokens=kwargs.get("max_tokens", self.max_tokens),
                do_sample=False,
                pad_token_id=tokenizer.eos_token_id,
            )
        text = tokenizer.decode(out[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(
        self, messages, stop=None, run_manager=None, **kwargs
    ) -> Iterator[ChatGenerationChunk]:
        from transformers import TextIteratorStreamer

        tokenizer, model, inputs = self._inputs(messages, **kwargs)
        streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
        args = dict(
            **inputs,
            max_new_tokens=kwargs.get("max_tokens", self.max_tokens),
            do_sample=False,
            streamer=streamer,
            pad_token_id=tokenizer.eos_token_id,
        )
        threading.Thread(target=model.generate, kwargs=args, daemon=True).start()
        for piece in streamer:
            if piece:
                yield ChatGenerationChunk(message=AIMessageChunk(content=piece))


def make_chat_model(config: LLMConfig, device: str = "cpu") -> BaseChatModel:
    backend = config.llm_backend
    if backend == "auto":
        backend = (
            "openai"
            if config.llm_url
            else ("transformers" if device.startswith("cuda") else "llamacpp")
        )
    if backend == "openai":
        if not config.llm_url:
            raise LLMUnavailableError("llm_backend 'openai' needs llm_url (AISLE_LLM_URL)")
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(
            base_url=config.llm_url,
            api_key=config.llm_api_key or "not-needed",
            model=config.llm_model,
            temperature=0.0,
            max_tokens=config.llm_max_tokens,
            timeout=config.llm_timeout_s,
            max_retries=0,
        )
    if backend == "llamacpp":
        return ChatLlamaCpp(
            model_path=str(resolve_gguf(config.llm_model)),
            n_ctx=config.llm_context,
            n_threads=config.llm_threads,
            max_tokens=config.llm_max_tokens,
            n_gpu_layers=-1 if device.startswith("cuda") else 0,
        )
    if backend == "transformers":
        ref = config.llm_model
        # a packaged GGUF is a valid source for transformers too; otherwise a hub id
        with contextlib.suppress(LLMUnavailableError):
            ref = str(resolve_gguf(ref)) if not Path(ref).expanduser().is_dir() else ref
        return ChatTransformers(model_ref=ref, device=device, max_tokens=config.llm_max_tokens)
    raise LLMUnavailableError(
        f"unknown llm_backend {backend!r}: auto, llamacpp, transformers, openai"
    )


_TIMEOUTS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="llm")


def _constrained(llm: BaseChatModel, schema: dict, max_tokens: int, repeat_penalty=None):
    """The model bound to answer JSON matching `schema`: a grammar in process (llama.cpp),
    the server's response_format over HTTP (vLLM, llama.cpp's server). `repeat_penalty`
    applies in process only (servers name it differently)."""
    if isinstance(llm, ChatLlamaCpp):
        return llm.bind(json_schema=schema, max_tokens=max_tokens, repeat_penalty=repeat_penalty)
    if isinstance(llm, ChatTransformers):
        return llm.bind(json_schema=schema, max_tokens=max_tokens)
    return llm.bind(
        response_format={"type": "json_schema", "json_schema": {"name": "turn", "schema": schema}},
        max_tokens=max_tokens,
    )


def chat_json(
    llm: BaseChatModel,
    messages: list[BaseMessage],
    schema: dict,
    timeout_s: float,
    max_tokens: int,
    on_first_token: Callable[[], None] | None = None,
    repeat_penalty: float | None = None,
) -> dict[str, Any]:
    """One JSON object from the LLM, constrained by `schema` where the backend can. Streamed,
    so a caller can note when the first token came (`on_first_token`)."""
    pieces = []
    for piece in stream_json(llm, messages, schema, timeout_s, max_tokens, repeat_penalty):
        if not pieces and on_first_token:
            on_first_token()
        pieces.append(piece)
    text = "".join(pieces)
    match = re.search(r"\{.*\}", text, re.S)
    if not match:
        raise ValueError(f"the LLM did not return JSON: {text[:120]!r}")
    return json.loads(match.group(0))


def stream_json(
    llm: BaseChatModel,
    messages: list[BaseMessage],
    schema: dict,
    timeout_s: float,
    max_tokens: int,
    repeat_penalty: float | None = None,
) -> Iterator[str]:
    """The text of one JSON answer as the LLM writes it (constrained by `schema` where the
    backend can), piece by piece; LLMUnavailableError when it fails or has not finished
    within `timeout_s` of the start."""
    bound = _constrained(llm, schema, max_tokens, repeat_penalty)
    pieces = functools.partial(bound.stream, messages)
    out: queue.Queue = queue.Queue()
    done = object()
    late = threading.Event()  # the reader gave up: stop generating at the next piece

    def run() -> None:
        try:
            stream = pieces()
            for chunk in stream:
                if late.is_set():  # a streaming backend stops here instead of finishing
                    getattr(stream, "close", lambda: None)()
                    break
                out.put(str(chunk.content))
        except Exception as exc:  # noqa: BLE001 - handed to the reader below
            out.put(exc)
        out.put(done)

    _TIMEOUTS.submit(run)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            item = out.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            late.set()
            raise LLMUnavailableError(f"the LLM did not finish within {timeout_s:g} s") from None
        if item is done:
            return
        if isinstance(item, LLMUnavailableError):
            raise item
        if isinstance(item, Exception):
            raise LLMUnavailableError(f"LLM call failed: {item}") from item
        yield item
