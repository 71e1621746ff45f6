import numpy as np
import pytest
import torch

from recworld.benchmarks.meta_evaluate import (
    aggregate,
    format_table,
    paired_difference,
    summarise,
    user_columns,
)
from recworld.models.tasks import TaskBatch
from recworld.numerics.statistics import bootstrap_indices


def one_user_tasks(query_items, query_ratings, support_items=()):
    k = len(support_items)
    return TaskBatch(
        users=torch.tensor([0]),
        user_features=torch.zeros(1, 0),
        support_items=torch.tensor([list(support_items)], dtype=torch.long).reshape(1, k),
        support_ratings=torch.full((1, k), 5.0),
        support_mask=torch.ones(1, k, dtype=torch.bool),
        query_items=torch.tensor([query_items]),
        query_ratings=torch.tensor([query_ratings], dtype=torch.float32),
    )


def test_hand_computed_metrics():
    n_items = 20
    tasks = one_user_tasks([1, 2, 3, 4], [5.0, 4.0, 2.0, 1.0], support_items=[0])
    mean = torch.full((1, n_items), 1.0)
    mean[0, 0] = 5.0  # a support item: must not count for recall
    mean[0, [1, 2, 3, 4]] = torch.tensor([4.0, 3.0, 3.0, 2.0])
    cols = user_columns(mean, None, tasks)
    assert cols["abs"][0] == pytest.approx(1 + 1 + 1 + 1)
    assert cols["ndcg_linear"][0] == pytest.approx(1.0)  # predicted order 1,2,3 is the ideal order
    assert cols["ndcg_exp"][0] == pytest.approx(1.0)
    assert cols["recall"][0] == pytest.approx(1.0) and cols["recall_den"][0] == 1
    # like predicted at >= 3.5: only item 1; liked are items 1 and 2.
    assert (cols["tp"][0], cols["fp"][0], cols["fn"][0]) == (1, 0, 1)
    result = aggregate(cols, bootstrap_indices(1, n_boot=10))
    assert result["mae"]["mean"] == pytest.approx(1.0)
    assert result["rmse"]["mean"] == pytest.approx(1.0)
    assert result["like_precision"]["mean"] == 1.0 and result["like_recall"]["mean"] == 0.5
    assert result["like_f1"]["mean"] == pytest.approx(2 / 3)
    assert "coverage90" not in result


def test_ndcg_gain_functions_differ_on_a_wrong_order():
    tasks = one_user_tasks([1, 2, 3], [5.0, 3.0, 1.0])
    mean = torch.zeros(1, 5)
    mean[0, [1, 2, 3]] = torch.tensor([1.0, 2.0, 3.0])  # the reverse order
    cols = user_columns(mean, None, tasks)
    discount = 1 / np.log2([2, 3, 4])
    linear = (np.array([1, 3, 5]) @ discount) / (np.array([5, 3, 1]) @ discount)
    exp = (np.array([1, 7, 31]) @ discount) / (np.array([31, 7, 1]) @ discount)
    assert cols["ndcg_linear"][0] == pytest.approx(linear, rel=1e-5)
    assert cols["ndcg_exp"][0] == pytest.approx(exp, rel=1e-5)


def test_coverage_uses_the_predictive_std():
    tasks = one_user_tasks([0, 1], [3.0, 5.0])
    mean = torch.full((1, 3), 3.0)
    std = torch.full((1, 3), 1.0)
    cols = user_columns(mean, std, tasks)
    assert cols["cover"][0] == 1 and cols["cover_n"][0] == 2


def test_bootstrap_interval_is_seeded_and_brackets_the_mean():
    rng = np.random.default_rng(0)
    n = 200
    cols = {
        "abs": rng.random(n) * 10,
        "sq": rng.random(n) * 10,
        "n": np.full(n, 10.0),
        "one": np.ones(n),
        "ndcg_linear": rng.random(n),
        "ndcg_exp": rng.random(n),
        "recall": rng.random(n),
        "recall_den": (rng.random(n) > 0.2).astype(float),
        "tp": rng.integers(0, 5, n).astype(float),
        "fp": rng.integers(0, 5, n).astype(float),
        "fn": rng.integers(0, 5, n).astype(float),
    }
    a = summarise({"m": {0: cols}})
    b = summarise({"m": {0: cols}})
    assert a == b
    for metric, value in a["m"]["0"].items():
        assert value["ci_low"] <= value["mean"] <= value["ci_high"], metric
    assert a["m"]["0"]["recall10"]["n"] == int(cols["recall_den"].sum())
    diff = paired_difference(cols, cols, "mae", bootstrap_indices(n, n_boot=50))
    assert diff == {"mean": 0.0, "ci_low": 0.0, "ci_high": 0.0}
    assert "mae" in format_table(a)


def test_recall_ranks_raw_scores_and_rating_metrics_clip_them():
    """Scores above the scale's top must not tie: the liked query item scored 7 beats 12 items at 5.5."""
    n_items = 20
    tasks = one_user_tasks([0, 1], [5.0, 2.0])
    raw = torch.full((1, n_items), 5.5)
    raw[0, 0] = 7.0  # the liked film: clipped, it would tie with the 5.5s and could miss the top 10
    raw[0, 1] = 0.0
    cols = user_columns(raw, None, tasks, rating_range=(1.0, 5.0))
    assert cols["recall"][0] == 1.0
    assert cols["abs"][0] == pytest.approx(0.0 + 1.0)  # 7 clipped to 5 (exact); 0 clipped to 1
