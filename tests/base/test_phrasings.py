"""English phrasings are data (`base/language/data/phrasings.toml`), not code."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from base.language.general import Phrasings, phrasings

ROOT = Path(__file__).resolve().parents[2]
REGEX_CALLS = {"compile", "search", "match", "fullmatch", "findall", "finditer", "sub", "split"}
# a word of two letters or more left in a pattern literal once its escapes ("\\b"), classes
# ("[a-z]"), group names and flags are taken out: "\\s+to\\b" holds "to"
WORD = re.compile(r"[A-Za-z]{2,}")
NOT_WORDS = re.compile(r"\\.|\[[^\]]*\]|\(\?P<\w+>|\(\?P=\w+\)|\(\?[aiLmsux]+\)")
# words in patterns that are formats, not English: the LLM's JSON key, the index's folders
FORMAT_WORDS = {"reasons", "gen"}


def test_every_pattern_compiles_and_placeholders_are_filled():
    p = phrasings()
    for name in p.patterns:
        pattern = p.pattern(name, number="7", value="x")
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


def _pattern_pieces(node: ast.AST):
    """The string constants a pattern argument is built of: a literal, an f-string's text,
    the literals of a concatenation (not the arguments of calls inside it)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.JoinedStr):
        yield from (v.value for v in node.values if isinstance(v, ast.Constant))
    elif isinstance(node, ast.BinOp):
        yield from _pattern_pieces(node.left)
        yield from _pattern_pieces(node.right)


def _pattern_literals(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "re"
            and node.func.attr in REGEX_CALLS
            and node.args
        ):
            for piece in _pattern_pieces(node.args[0]):
                yield node.lineno, piece


def _english(pattern: str) -> set[str]:
    return set(WORD.findall(NOT_WORDS.sub("", pattern))) - FORMAT_WORDS


def test_the_check_finds_english_and_passes_structure():
    assert _english(r"\s+to\b") == {"to"}
    assert _english(r"(?:pack|box)\s+of\s+") == {"pack", "box", "of"}
    assert not _english(r"(?P<n>\d+(?:\.\d+)?)\s+[a-z]+\w*(?i)")


def test_no_english_word_patterns_in_code():
    """Patterns in code hold structure only; their English words are in phrasings.toml.
    The language layer itself (base/language: plurals, superlatives) is exempt."""
    found = [
        f"{path.relative_to(ROOT)}:{line}: {text}"
        for floor in ("assistant", "orders", "ranking", "retrieval", "ui", "base", "cli")
        for path in (ROOT / floor).rglob("*.py")
        if "language" not in path.relative_to(ROOT).parts
        for line, text in _pattern_literals(path)
        if _english(text)
    ]
    assert not found, "English phrasings belong in phrasings.toml:\n" + "\n".join(found)
