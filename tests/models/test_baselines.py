import numpy as np
import torch

from recworld.data import split_users
from recworld.models import ItemBias, MFFoldIn, train_global, tune_finetune
from recworld.models.baselines import tune_mf
from recworld.models.maml import validation_mae, validation_tasks
from recworld.models.tasks import sample_tasks


def test_mf_fold_in_uses_the_support_set(tiny_data):
    split = split_users(tiny_data, min_ratings=13, max_ratings=100, seed=0)
    train = split.ratings(tiny_data, "train")
    mf = MFFoldIn.fit(train, rank=2, reg=1.0, foldin_reg=1.0)
    bias = ItemBias.fit(train)
    features, _ = tiny_data.user_features()
    tasks = sample_tasks(tiny_data, split.test, features, rng=np.random.default_rng(0), k_max=10, n_query=4)
    full = torch.ones_like(tasks.support_mask)
    folded = mf.scores(tasks.support_items, tasks.support_ratings, full).gather(1, tasks.query_items)
    plain = bias.scores(len(tasks)).gather(1, tasks.query_items)
    truth = tasks.query_ratings
    assert (folded - truth).abs().mean() < (plain - truth).abs().mean()
    empty = mf.scores(tasks.support_items, tasks.support_ratings, torch.zeros_like(full))
    expected = (mf.global_mean + mf.item_bias).clamp(1, 5).expand_as(empty)
    torch.testing.assert_close(empty, expected)


def test_tuned_mf_records_its_choice(tiny_inputs, tiny_config):
    val = validation_tasks(tiny_inputs, tiny_config, np.random.default_rng(0), draws=1)
    mf = tune_mf(tiny_inputs.train, val)
    assert mf.foldin_reg in (1.0, 3.0, 10.0, 30.0) and "validation_mae" in mf.info


def test_global_model_and_fine_tuning(tiny_inputs, tiny_config):
    model, report = train_global(tiny_inputs, tiny_config, use_text=False, progress=False)
    assert model.adaptation.steps == 0 and report.epochs >= 1
    val = validation_tasks(tiny_inputs, tiny_config, np.random.default_rng(0), draws=1)
    tuned = tune_finetune(model, val, lrs=(0.001, 0.01), steps=(3,))
    assert tuned.adaptation.steps == 3 and tuned.adaptation.lr in (0.001, 0.01)
    assert tuned.net is model.net
    assert (
        validation_mae(tuned.net, val, steps=3, lr=tuned.adaptation.lr)
        == tuned.info["finetune"]["validation_mae"]
    )
