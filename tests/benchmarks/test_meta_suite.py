import json

import pytest

from recworld.benchmarks.meta_plots import plot_cold_start
from recworld.benchmarks.meta_suite import evaluate_suite, train_suite
from recworld.cli import main
from recworld.models import MetaConfig
from tests.models.synthetic import synthetic_data


@pytest.fixture(scope="module")
def tiny_data():
    return synthetic_data()


def test_train_and_evaluate_a_tiny_suite(tmp_path, tiny_data):
    config = MetaConfig(dim=4, batch_size=32, max_epochs=2, patience=1, use_text="off", device="cpu")
    summary = train_suite(tiny_data, tmp_path, seeds=[0, 1], config=config, progress=False)
    assert set(summary["models"]) == {"seed_0", "seed_1"}
    assert {"meta", "transfer", "mf_foldin+item_bias"} <= set(summary["models"]["seed_0"])
    report = evaluate_suite(tmp_path, ks=(0, 1, 3), n_boot=50, data=tiny_data)
    results = report["results"]
    assert {"meta", "transfer", "no_adapt", "item_bias", "mf_foldin"} <= set(results)
    cell = results["meta"]["3"]["mae"]
    assert cell["ci_low"] <= cell["mean"] <= cell["ci_high"] and cell["n"] == report["units"]
    assert "coverage90" in results["meta"]["0"] and "coverage90" not in results["mf_foldin"]["0"]
    assert "coverage90" not in results["no_adapt"]["0"]  # its calibration belongs to "transfer"
    assert results["no_adapt"]["0"]["mae"] == results["no_adapt"]["3"]["mae"]
    assert "meta-transfer" in report["paired_mae_differences"]
    png = plot_cold_start(results, tmp_path / "plots" / "curves.png")
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_eval_refuses_other_data(tmp_path, tiny_data):
    config = MetaConfig(dim=4, max_epochs=1, use_text="off", device="cpu")
    train_suite(tiny_data, tmp_path, seeds=[0], config=config, baselines=False, progress=False)
    with pytest.raises(ValueError, match="checksum"):
        evaluate_suite(tmp_path, data=synthetic_data(seed=1))


def test_eval_of_a_missing_directory_is_one_line(tmp_path, capsys):
    assert main(["meta", "eval", "--model", str(tmp_path / "nothing")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("recworld: error: ") and "suite.json" in err and "Traceback" not in err


@pytest.mark.realdata
def test_cli_on_movielens_100k(tmp_path, capsys):
    out = tmp_path / "run"
    args = [
        "meta",
        "train",
        "--dataset",
        "movielens-100k",
        "--out",
        str(out),
        "--seeds",
        "0",
        "--max-epochs",
        "2",
        "--text",
        "off",
        "--device",
        "cpu",
    ]
    assert main(args) == 0
    capsys.readouterr()
    assert (
        main(
            [
                "meta",
                "eval",
                "--model",
                str(out),
                "--json",
                "--plots",
                str(tmp_path / "plots"),
                "--ks",
                "0",
                "5",
                "--bootstrap",
                "100",
            ]
        )
        == 0
    )
    results = json.loads(capsys.readouterr().out)
    assert {"meta", "mf_foldin", "transfer", "no_adapt", "item_bias"} <= set(results)
    assert set(results["meta"]) == {"0", "5"}
    assert {"mean", "ci_low", "ci_high"} <= set(results["meta"]["5"]["mae"])
    assert 0.5 < results["meta"]["5"]["mae"]["mean"] < 1.2
    assert (tmp_path / "plots" / "cold_start.png").exists()
