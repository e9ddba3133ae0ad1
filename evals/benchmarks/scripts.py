"""The benchmarks' scripted requests for one catalog: `bench.toml` in its eval set's folder
(evals/sets.py). They are written in that shop's words, as its eval set is, so no
benchmark carries a catalog's words in code; `--set NAME` picks the catalog's script.

    [search]        queries, and filters ({name = {price_max = 60, facets = {...}}})
    [search.expand] title_prefixes: words the enlarged catalogs put before a title
    [turn]          dialogues: lists of shopper turns
    [serve]         requests (each shopper asks for one, with its own price limit), follow_ups
    [text_to_image] kinds ({query = category}), colours ({query = [category, colour]})

They time the system; nothing is tuned on them, and quality is measured by `aisle eval`."""

from __future__ import annotations

import tomllib

from pydantic import BaseModel, Field

from retrieval.schema import SearchFilters

from ..sets import EvalSet


class SearchScript(BaseModel):
    queries: list[str] = Field(min_length=1)
    # the filters timed; a name marked "(ours only)" has no plain-Chroma equivalent
    filters: dict[str, SearchFilters] = Field(
        default_factory=lambda: {"unfiltered": SearchFilters()}
    )
    title_prefixes: list[str] = Field(default_factory=lambda: ["New"])


class TurnScript(BaseModel):
    dialogues: list[list[str]] = Field(min_length=1)


class ServeScript(BaseModel):
    requests: list[str] = Field(min_length=1)
    follow_ups: list[str] = Field(default_factory=list)


class TextToImageScript(BaseModel):
    kinds: dict[str, str] = Field(default_factory=dict)
    colours: dict[str, tuple[str, str]] = Field(default_factory=dict)


class BenchScripts(BaseModel):
    search: SearchScript | None = None
    turn: TurnScript | None = None
    serve: ServeScript | None = None
    text_to_image: TextToImageScript | None = None


def load_scripts(eval_set: EvalSet) -> BenchScripts:
    path = eval_set.file("bench.toml")
    if not path.is_file():
        raise ValueError(f"eval set {eval_set.name!r} has no bench.toml ({path})")
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    search = raw.get("search")
    if search and "expand" in search:
        search = {**search, **search.pop("expand")}
    return BenchScripts.model_validate({**raw, "search": search})


def script_for(eval_set: EvalSet, part: str):
    """The `part` ("search", "turn", …) of the set's script, or a clear error naming it."""
    got = getattr(load_scripts(eval_set), part)
    if got is None:
        raise ValueError(f"{eval_set.file('bench.toml')} has no [{part}] section")
    return got
