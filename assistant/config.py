"""The one settings object. Reads `AISLE_*` environment variables and an optional TOML
file (`AISLE_CONFIG`, else `./aisle.toml`); CLI flags override both."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict, TomlConfigSettingsSource

from retrieval.config import RetrievalConfig

from .llm_settings import LLMConfig


def _toml_file() -> Path:
    return Path(os.environ.get("AISLE_CONFIG", "aisle.toml"))


class Settings(RetrievalConfig, LLMConfig, BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AISLE_", extra="ignore")

    results_per_turn: int = Field(5, ge=1, le=20, description="products shown per reply")
    rerank_depth: int = Field(
        50, ge=1, le=500, description="hybrid candidates the trained ranker re-orders"
    )
    inferred_values: Literal["filter", "weigh"] = Field(
        "weigh",
        description="values read only because a word equals them: 'filter' (every one a "
        "filter), or 'weigh' (ambiguous ones re-rank, the rest filter when no worse; "
        "assistant/evidence.py)",
    )
    event_log_url: str | None = Field(
        None, description="SQLAlchemy URL of the event log; default SQLite in the index folder"
    )
    event_log_enabled: bool = True
    conversation_store_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the conversations and carts; default SQLite in the "
        "index folder (PostgreSQL when several workers share them)",
    )
    orders_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the order store (customers, orders); default SQLite "
        "in the index folder",
    )
    precedents_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the resolved conversations the console shows as "
        "precedents; default SQLite in the index folder",
    )
    orders_write: bool = Field(
        False,
        description="apply an action the agent confirms to the order store (default: "
        "read-only, the action shown for the agent to carry out in the shop's own system)",
    )
    service_rules: Path | None = Field(
        None,
        description="the shop's service rules (TOML: which order states each action "
        "needs); default: service-rules.toml of the policies ingested",
    )
    policy_min_cosine: float = Field(
        0.35, description="a policy passage this similar to the question can answer it"
    )
    agent_users: list[str] = Field(
        default_factory=list,
        description='agent console logins, "name:password" (none: the console is off)',
    )
    serve_host: str = "127.0.0.1"
    serve_port: int = Field(7860, ge=1, le=65535)
    serve_concurrency: int = Field(
        2, ge=1, le=64, description="turns computed at once (the rest wait in Gradio's queue)"
    )
    inference_threads: int = Field(
        0,
        ge=0,
        le=256,
        description="intra-op threads for a turn's model calls (query encoder, ranker, photo "
        "encoder); 0 = the cores divided among the turns computed at once (serve_concurrency)",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="addresses of the reverse proxies whose X-Forwarded-For is believed "
        "(e.g. ['127.0.0.1'] behind nginx on this host); none by default: the client's "
        "own address counts, and a forged header is ignored",
    )
    serve_worker: str = Field(
        "", description="this worker's name in the X-Aisle-Worker header (default host:port)"
    )
    agent_session_s: int = Field(
        8 * 3600, ge=60, description="an agent's sign-in lasts this long (then sign in again)"
    )
    serve_max_request_kb: int = Field(
        256,
        ge=16,
        le=65_536,
        description="largest request body the page reads, uploads aside (bigger: 413 before "
        "it is read; a message over max_message_chars but under this is cut, with a note)",
    )
    serve_max_upload_mb: int = Field(
        10, ge=1, le=200, description="largest photo a shopper may upload (bigger: refused)"
    )
    uploads_kept_s: int = Field(
        86_400, ge=60, description="uploaded photos are deleted this long after they arrive"
    )
    use_trained_ranker: bool = Field(
        True,
        description="rank with the index's trained ranker when it has one (off: retrieval order)",
    )
    related_per_list: int = Field(
        5, ge=1, le=20, description='products in "also looked at" and "goes well with"'
    )
    related_refresh_s: float = Field(
        600,
        ge=0,
        description="co-views and co-carts are recounted from the event log this often",
    )
    max_chat_messages: int = Field(
        200, ge=2, le=10_000, description="the chat kept per conversation (its latest messages)"
    )
    max_message_chars: int = Field(
        2_000, ge=100, le=100_000, description="longer messages are read up to here, with a note"
    )

    def threads_for_inference(self) -> int:
        """Each of the `serve_concurrency` turns at once gets its share of the cores, so
        they never oversubscribe them (the setting, when given, wins)."""
        if self.inference_threads:
            return self.inference_threads
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        return max(1, (cores or 1) // self.serve_concurrency)

    def conversation_location(self) -> str:
        if self.conversation_store_url:
            return self.conversation_store_url
        return f"sqlite:///{Path(self.index_dir).expanduser() / 'conversations.sqlite'}"

    def orders_location(self) -> str:
        if self.orders_url:
            return self.orders_url
        return f"sqlite:///{Path(self.index_dir).expanduser() / 'orders.sqlite'}"

    def precedents_location(self) -> str:
        if self.precedents_url:
            return self.precedents_url
        return f"sqlite:///{Path(self.index_dir).expanduser() / 'precedents.sqlite'}"

    def service_rules_file(self) -> Path | None:
        """The rules file in use: the setting, else the one ingested with the policies."""
        if self.service_rules:
            return Path(self.service_rules).expanduser()
        ingested = Path(self.index_dir).expanduser() / "policies" / "service-rules.toml"
        return ingested if ingested.is_file() else None

    def event_log_location(self) -> str:
        if self.event_log_url:
            return self.event_log_url
        return f"sqlite:///{Path(self.index_dir).expanduser() / 'events.sqlite'}"

    @classmethod
    def settings_customise_sources(
        cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings
    ):
        toml = TomlConfigSettingsSource(settings_cls, toml_file=_toml_file())
        return init_settings, env_settings, toml, file_secret_settings

    @classmethod
    def from_file(cls, path: Path) -> Settings:
        """The settings with this TOML file's over the environment's (`aisle eval --config`,
        to compare configurations side by side); a key the settings lack is an error."""
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ValueError(f"config file not found: {path}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{path}: not valid TOML ({exc})") from None
        unknown = sorted(set(data) - set(cls.model_fields))
        if unknown:
            raise ValueError(f"{path}: unknown setting(s) {', '.join(unknown)}")
        return cls().with_overrides(**data)

    def with_overrides(self, **overrides) -> Settings:
        """A copy with the CLI flags that were given (None = not given)."""
        given = {k: v for k, v in overrides.items() if v is not None}
        return self.model_validate({**self.model_dump(), **given}) if given else self
