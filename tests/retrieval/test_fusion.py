import numpy as np

from retrieval.fusion import Ranking, fuse, top_rows


def test_rrf_rewards_agreement_and_respects_weights():
    a = Ranking(rows=np.array([1, 2, 3]), scores=np.array([0.9, 0.8, 0.7]))
    b = Ranking(rows=np.array([2, 4]), scores=np.array([5.0, 1.0]))
    fused = fuse({"a": a, "b": b}, {"a": 1.0, "b": 1.0})
    assert fused[0][0] == 2  # ranked by both
    assert fused[0][2] == {"a": (2, 0.8), "b": (1, 5.0)}
    heavy_b = fuse({"a": a, "b": b}, {"a": 1.0, "b": 10.0})
    assert [r for r, _, _ in heavy_b][:2] == [2, 4]


def test_top_rows_orders_cuts_and_drops_low_scores():
    scores = np.array([0.1, 0.9, 0.0, 0.5, 0.9])
    rows = np.array([10, 11, 12, 13, 14])
    r = top_rows(scores, rows, 3, min_score=0.0)
    assert r.rows.tolist() == [11, 14, 13]
    assert top_rows(scores, rows, 10, min_score=0.0).rows.tolist() == [11, 14, 13, 10]
