"""The trained ranker's scoring: the personal residual reorders only the fusion's top."""

import numpy as np

from ranking.model import PERSONAL_HEAD, with_personal


def test_the_personal_model_reorders_the_fusions_top_and_lifts_nothing_past_it():
    n = PERSONAL_HEAD + 5
    base = np.linspace(10, 0, n)  # the fusion's order: 0, 1, 2, …
    residual = np.zeros(n)
    residual[PERSONAL_HEAD - 1] = 100.0  # the last of the top: to the first place
    residual[PERSONAL_HEAD] = 1000.0  # the first below the top: stays below it
    order = np.argsort(-with_personal(base, residual), kind="stable").tolist()
    assert order[0] == PERSONAL_HEAD - 1
    assert set(order[:PERSONAL_HEAD]) == set(range(PERSONAL_HEAD))
    assert order[PERSONAL_HEAD:] == list(range(PERSONAL_HEAD, n))  # the rest as they were
    # a short list is the top: all of it reordered
    short = with_personal(base[:3], np.array([0.0, 0.0, 100.0]))
    assert int(np.argmax(short)) == 2


def test_a_product_the_log_never_showed_is_not_pushed_down_for_it():
    """Its missing behaviour says nothing against it: its residual is at least the median
    of the shown products' in the top; a taste that lifts it still does."""
    base = np.array([5.0, 4.0, 3.0, 2.0, 1.0])
    residual = np.array([1.0, 1.0, -5.0, 1.0, 0.0])  # the new product (2) scored down
    unseen = np.array([False, False, True, False, False])
    plain = np.argsort(-with_personal(base, residual), kind="stable").tolist()
    fair = np.argsort(-with_personal(base, residual, unseen=unseen), kind="stable").tolist()
    assert plain.index(2) == 4 and fair.index(2) == 2  # back in its fusion place
    lifted = with_personal(base, np.array([0.0, 0.0, 9.0, 0.0, 0.0]), unseen=unseen)
    assert int(np.argmax(lifted)) == 2
