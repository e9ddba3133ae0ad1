"""The projected scan proposes the exact search's best rows, within a filter."""

import numpy as np

from retrieval.fusion import best_indices
from retrieval.projection import Projection


def _unit(x):
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_projected_candidates_hold_the_exact_top_rows_inside_the_filter():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(20, 64))
    matrix = _unit(centres[rng.integers(0, 20, 6_000)] + 0.4 * rng.normal(size=(6_000, 64)))
    proj = Projection(matrix, dims=32, sample=2_000)  # queries near the data, as real ones
    for allowed_share in (1.0, 0.3):
        allowed = rng.random(len(matrix)) < allowed_share
        for _ in range(5):
            query = _unit(matrix[rng.integers(0, 6_000)][None] + 0.3 * rng.normal(size=(1, 64)))[0]
            got = proj.candidates(query, allowed, depth=300)
            assert allowed[got].all() and np.all(np.diff(got) > 0)
            rows = np.flatnonzero(allowed)
            exact = set(rows[best_indices(matrix[rows] @ query, 10)])
            assert len(exact & set(got.tolist())) >= 9


def test_few_allowed_rows_are_all_candidates():
    matrix = _unit(np.random.default_rng(1).normal(size=(100, 8)))
    allowed = np.zeros(100, dtype=bool)
    allowed[[3, 50, 99]] = True
    got = Projection(matrix, dims=4).candidates(matrix[0], allowed, depth=10)
    assert got.tolist() == [3, 50, 99]


def test_ties_at_the_cut_go_to_the_lower_row():
    scores = np.array([1.0, 2.0, 2.0, 2.0, 0.5])
    assert sorted(best_indices(scores, 2).tolist()) == [1, 2]
    assert sorted(best_indices(scores, 2, rows=np.array([9, 8, 7, 6, 5])).tolist()) == [2, 3]
