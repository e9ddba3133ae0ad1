"""LLM settings (a light module: the CLI imports it at start)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class LLMConfig(BaseModel):
    llm_backend: str = Field("auto", description="auto | llamacpp | transformers | openai")
    llm_model: str = Field(
        "qwen2.5-1.5b",
        description="qwen2.5-1.5b | qwen2.5-0.5b | smollm2-135m | a GGUF file | a model folder "
        "or hub id (transformers) | the served model's name (openai)",
    )
    llm_url: str | None = Field(None, description="OpenAI-compatible server URL (…/v1)")
    llm_api_key: str | None = None
    llm_timeout_s: float = Field(30.0, gt=0)
    llm_read_budget_ms: int = Field(
        3000,
        ge=100,
        description="the most a turn waits for the LLM's reading of it; past it the rules' "
        "reading serves the turn and the LLM stops (a 2-core CPU rarely makes it; a GPU does)",
    )
    llm_max_tokens: int = Field(320, ge=16)
    llm_threads: int = Field(0, ge=0, description="CPU threads for llama.cpp; 0 = all cores")
    llm_context: int = Field(4096, ge=512)
    llm_picks_variants: bool | None = Field(
        None,
        description="in the service console, let the LLM pick the new variant where the "
        "rules read none from the customer's words (the rules and the order store check the "
        "pick); unset: on for a GPU or an LLM server, off for llama.cpp on a CPU, where the "
        "small models mostly picked wrong (docs/service.md)",
    )
    llm_writes_replies: bool | None = Field(
        None,
        description="let the LLM write the product reasons; false: reasons built from the "
        "catalog; unset: on for a GPU or an LLM server, off for llama.cpp on a CPU, where "
        "they cost seconds and rarely pass the checks (README, Measured)",
    )
