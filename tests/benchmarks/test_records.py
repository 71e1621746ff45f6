"""Records on disk: the files earlier runs wrote still load, and a record survives its file."""

import json
import math

import pytest

from recworld.benchmarks.records import Record, read_records, record_path, write_record

CELL = {
    "env": "ColdStart",
    "env_id": "recworld/ColdStart-v0",
    "env_kwargs": {"horizon": 2},
    "agent": "eps",
    "agent_name": "epsilon-greedy",
    "params": {"epsilon": 0.2},
    "seed": 1,
    "budget": 100,
    "batch": 0,
    "score": "return",
}
#: an ok record as `run_cell` wrote it before records were typed (a metric undefined for a user: null)
OK = {
    "record_version": 1,
    "key": "ColdStart__eps__1",
    "cell": CELL,
    "versions": {"python": "3.11.7", "recworld": "0.1.0"},
    "machine": "a laptop",
    "agent_info": {"class": "EpsilonGreedy", "learns_offline": False, "privileged": False},
    "status": "ok",
    "learning_curve": [],
    "kind": "ColdStart",
    "env_info": {"kind": "ColdStart", "n_items": 5, "k": None},
    "n_users": 2,
    "users": [3, 7],
    "metrics": {"return": 0.5, "like_rate": None, "coverage": 0.4},
    "cell_metrics": {"coverage": 0.4},
    "per_user": {"return": [0.0, 1.0], "like_rate": [None, None]},
    "curve": {"mean": [0.25, 0.25], "std": [0.25, 0.25], "n": 2},
    "seconds": {"evaluate": 0.1, "total": 0.1},
}
#: a failed record as the runner wrote it for a dead worker (no record_version, no results)
FAILED = {
    "key": "ColdStart__eps__2",
    "cell": {**CELL, "seed": 2},
    "versions": {"python": "3.11.7"},
    "machine": "a laptop",
    "status": "failed",
    "error": {"phase": "worker", "type": "RuntimeError", "message": "died", "traceback": "Traceback"},
    "seconds": {},
}


def test_records_written_by_earlier_runs_load(tmp_path):
    (tmp_path / "records").mkdir()
    for record in (OK, FAILED):
        record_path(tmp_path, record["key"]).write_text(json.dumps(record))
    records = read_records(tmp_path)
    ok, failed = records["ColdStart__eps__1"], records["ColdStart__eps__2"]
    assert (
        ok.cell.key == ok.key
        and ok.cell.params == {"epsilon": 0.2}
        and ok.per_user["like_rate"] == [None, None]
    )
    assert failed.record_version == 1 and failed.error is not None and failed.error["phase"] == "worker"
    assert failed.per_user == {} and failed.curve["mean"] == []


def test_a_record_survives_its_file_with_nan_as_null(tmp_path):
    record = Record.model_validate({**OK, "metrics": {"return": 0.5, "like_rate": math.nan}})
    write_record(tmp_path, record)
    written = json.loads(record_path(tmp_path, record.key).read_text())
    assert written["metrics"]["like_rate"] is None and written["cell"] == CELL
    assert read_records(tmp_path)[record.key] == Record.model_validate({**OK, "metrics": written["metrics"]})


def test_a_record_that_is_not_a_record_names_its_file(tmp_path):
    (tmp_path / "records").mkdir()
    path = record_path(tmp_path, "ColdStart__eps__1")
    path.write_text(json.dumps({**OK, "status": "ok", "error": FAILED["error"]}))
    with pytest.raises(ValueError, match=r"ColdStart__eps__1\.json cannot be read.*--resume"):
        read_records(tmp_path)
