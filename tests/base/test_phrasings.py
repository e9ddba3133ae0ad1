"""English phrasings are data (`base/language/data/phrasings.toml`), not code."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from base.language.general import Phrasings, phrasings

ROOT = Path(__file__).resolve().parents[2]
REGEX_CALLS = {"compile", "search", "match", "fullmatch", "findall", "finditer", "sub", "split"}
# an alternation of two English words ("cart|basket") in a pattern literal
WORD_ALTERNATION = re.compile(r"\b[a-z]{2,}\|[a-z]{2,}\b")


def test_every_pattern_compiles_and_placeholders_are_filled():
    p = phrasings()
    for name in p.patterns:
        pattern = p.pattern(name, number="7")
        assert "<<" not in pattern.pattern, name
        assert "\n" not in pattern.pattern, name


def test_lines_are_joined_and_case_follows_the_file():
    p = phrasings()
    cart = p.pattern("cart")
    assert cart.flags & re.IGNORECASE
    assert cart.search("OK, put the SECOND one in my basket")
    assert not cart.search("I want to buy a tent")
    assert not p.pattern("size_claim").flags & re.IGNORECASE


def test_an_unfilled_placeholder_is_an_error():
    with pytest.raises(ValueError, match="duration"):
        phrasings().pattern("duration")


def test_case_sensitive_must_name_a_pattern():
    with pytest.raises(ValueError, match="nope"):
        Phrasings(patterns={"a": "x"}, case_sensitive=["nope"], words={}, counts={})


def _pattern_literals(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "re"
            and node.func.attr in REGEX_CALLS
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.lineno, node.args[0].value


def test_no_english_word_patterns_in_code():
    found = [
        f"{path.relative_to(ROOT)}:{line}: {text}"
        for floor in ("assistant", "ranking", "retrieval", "ui", "base")
        for path in (ROOT / floor).rglob("*.py")
        for line, text in _pattern_literals(path)
        if WORD_ALTERNATION.search(text)
    ]
    assert not found, "English phrasings belong in phrasings.toml:\n" + "\n".join(found)
