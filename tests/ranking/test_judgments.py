"""The judged-pairs format: good rows load, each bad row is reported with its line."""

import json

import pytest

from ranking.judgments import JudgmentsFileError, by_query, load_judgments, save_judgments


def test_bad_rows_are_reported_with_their_lines(tmp_path):
    rows = [
        json.dumps({"query": "rain jacket", "product_id": "J1", "grade": 3}),
        json.dumps({"query": "rain jacket", "product_id": "J2", "grade": 7}),  # out of range
        "{not json",
        json.dumps({"query": " ", "product_id": "J1", "grade": 1}),  # blank query
        "",
        json.dumps({"query": "rain jacket", "product_id": "ZZ", "grade": 1}),  # unknown id
        json.dumps({"query": "rain jacket", "product_id": "H1", "grade": 1.5}),  # not whole
        json.dumps(["a", "list"]),
        json.dumps({"query": "hoodie", "product_id": "H1", "grade": 0, "weight": 2.5}),
    ]
    path = tmp_path / "judged.jsonl"
    path.write_text("\n".join(rows) + "\n")
    good, bad = load_judgments(path, known_products={"J1", "J2", "H1"})
    assert [(j.product_id, j.grade) for j in good] == [("J1", 3), ("H1", 0)]
    assert good[1].weight == 2.5
    lines = {e.line: e.reason for e in bad}
    assert sorted(lines) == [2, 3, 4, 6, 7, 8]
    assert "grade" in lines[2] and "JSON" in lines[3] and "query" in lines[4]
    assert "not in the catalog" in lines[6] and "whole number" in lines[7]


def test_round_trip_and_grouping(tmp_path):
    good, _ = load_judgments(_write(tmp_path, [("q", "A", 2), ("q", "A", 3), ("r", "B", 1)]))
    assert by_query(good) == {"q": {"A": 3}, "r": {"B": 1}}
    save_judgments(good, tmp_path / "copy.jsonl")
    again, bad = load_judgments(tmp_path / "copy.jsonl")
    assert not bad and again == good


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(JudgmentsFileError, match="nowhere.jsonl"):
        load_judgments(tmp_path / "nowhere.jsonl")


def _write(folder, triples):
    path = folder / "j.jsonl"
    path.write_text(
        "".join(json.dumps({"query": q, "product_id": p, "grade": g}) + "\n" for q, p, g in triples)
    )
    return path
