"""The runner end to end: records, report, failures, resume after SIGKILL, and the Ray backend."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from recworld.benchmarks.records import read_records
from recworld.benchmarks.report import write_report
from recworld.benchmarks.runner import run_suite
from recworld.benchmarks.suite import load_suite
from recworld.cli import main

pytestmark = pytest.mark.realdata

TINY = """
name = "tiny"
seeds = [0, 1]
bootstrap = 200
[[envs]]
id = "recworld/ColdStart-v0"
kwargs = { horizon = 10 }
agents = ["random", "popularity"]
"""


def write_suite(tmp_path, text=TINY, name="tiny.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def comparable(records):
    return {key: r.model_dump(exclude={"seconds", "machine"}) for key, r in records.items()}


REPORT_FILES = (
    "report.md",
    "summary.json",
    "ColdStart_scores.png",
    "ColdStart_profile.png",
    "ColdStart_curves.png",
)


def test_tiny_suite_end_to_end_and_report_rebuilt_from_records(tmp_path, capsys):
    suite, out = write_suite(tmp_path), tmp_path / "run"
    assert main(["bench", "run", "--suite", str(suite), "--out", str(out), "--workers", "1"]) == 0
    printed = capsys.readouterr().out
    assert "4 cells: 4 run now, 0 kept from before, 0 failed" in printed
    records = read_records(out)
    assert sorted(records) == [f"ColdStart__{a}__{s}" for a in ("popularity", "random") for s in (0, 1)]
    assert all(r.status == "ok" for r in records.values())
    summary = json.loads((out / "summary.json").read_text())
    env = summary["envs"]["ColdStart"]
    assert summary["complete"] and env["ranking"] == ["popularity", "random"]
    stats = env["agents"]["popularity"]["metrics"]["return"]
    assert (
        stats["mean_low"] <= stats["mean"] <= stats["mean_high"]
        and stats["n"] == 2 * records["ColdStart__popularity__0"].n_users
    )
    report = (out / "report.md").read_text()
    assert "| 1 | popularity |" in report and "Score: **return**" in report and "numpy" in report
    assert json.loads((out / "suite.json").read_text())["name"] == "tiny" and (out / "suite.toml").is_file()

    before = {name: (out / name).read_bytes() for name in REPORT_FILES}
    for name in REPORT_FILES:
        (out / name).unlink()
    assert main(["bench", "report", str(out)]) == 0
    assert {name: (out / name).read_bytes() for name in REPORT_FILES} == before

    # A second run into the same directory is refused unless it resumes; resuming runs nothing.
    assert main(["bench", "run", "--suite", str(suite), "--out", str(out), "--workers", "0"]) == 2
    assert "--resume" in capsys.readouterr().err
    assert main(["bench", "run", "--suite", str(suite), "--out", str(out), "--resume"]) == 0
    assert "0 run now, 4 kept" in capsys.readouterr().out


def test_a_failing_cell_is_recorded_reported_and_exits_non_zero(tmp_path, capsys):
    text = TINY.replace('["random", "popularity"]', '["random", "no-such-agent"]').replace("[0, 1]", "[0]")
    suite, out = write_suite(tmp_path, text), tmp_path / "run"
    assert main(["bench", "run", "--suite", str(suite), "--out", str(out), "--workers", "0"]) == 1
    printed = capsys.readouterr().out
    assert "1 failed" in printed and "failed ColdStart__no-such-agent__0 (agent): AgentError" in printed
    record = read_records(out)["ColdStart__no-such-agent__0"]
    assert record.status == "failed" and "Traceback" in record.error["traceback"]
    summary = json.loads((out / "summary.json").read_text())
    assert not summary["complete"] and summary["failed"][0]["key"] == "ColdStart__no-such-agent__0"
    assert summary["envs"]["ColdStart"]["not_scored"] == ["no-such-agent"]
    report = (out / "report.md").read_text()
    assert "## Failed cells" in report and "unknown agent 'no-such-agent'" in report
    # --resume retries failed cells (and keeps the finished one).
    assert main(["bench", "run", "--suite", str(suite), "--out", str(out), "--resume", "--workers", "0"]) == 1
    assert "1 run now, 1 kept" in capsys.readouterr().out


def test_a_changed_cell_is_run_again_on_resume(tmp_path):
    suite, out = write_suite(tmp_path), tmp_path / "run"
    first = run_suite(load_suite(suite), out, workers=0, progress=False)
    assert first.ran == 4 and first.ok
    changed = write_suite(tmp_path, TINY.replace("horizon = 10", "horizon = 4"), "changed.toml")
    second = run_suite(load_suite(changed), out, workers=0, resume=True, progress=False)
    assert second.ran == 4 and second.kept == 0
    assert all(len(r.curve["mean"]) == 4 for r in read_records(out).values())


SLOW = """
name = "slow"
seeds = [0, 1, 2, 3, 4]
bootstrap = 200
[[envs]]
id = "recworld/Engagement-v0"
kwargs = { horizon = 200 }
agents = ["random", "popularity"]
"""


@pytest.mark.expensive
def test_resume_after_sigkill_loses_no_cell_and_gives_the_same_summary(tmp_path):
    suite = write_suite(tmp_path, SLOW, "slow.toml")
    reference = tmp_path / "reference"
    run_suite(load_suite(suite), reference, workers=1, progress=False)

    out = tmp_path / "killed"
    command = [sys.executable, "-m", "recworld.cli", "bench", "run", "--suite", str(suite), "--out", str(out)]
    process = subprocess.Popen([*command, "--workers", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while len(list((out / "records").glob("*.json"))) < 2:
        assert process.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline, "no record after two minutes"
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.communicate()
    finished = read_records(out)
    assert 2 <= len(finished) < 10 and not (out / "summary.json").exists()

    resumed = subprocess.run(
        [*command, "--workers", "1", "--resume"], capture_output=True, text=True, timeout=300
    )
    assert resumed.returncode == 0, resumed.stderr
    assert f"{10 - len(finished)} run now, {len(finished)} kept" in resumed.stdout
    for key, record in finished.items():  # the records written before the kill were kept as they were
        assert read_records(out)[key] == record
    assert (out / "summary.json").read_text() == (reference / "summary.json").read_text()
    assert comparable(read_records(out)) == comparable(read_records(reference))


@pytest.mark.expensive
def test_local_and_ray_backends_give_identical_records(tmp_path):
    pytest.importorskip("ray")
    suite = load_suite(write_suite(tmp_path))
    local = run_suite(suite, tmp_path / "local", workers=2, progress=False)
    ray = run_suite(suite, tmp_path / "ray", workers=2, backend="ray", progress=False)
    assert local.ok and ray.ok
    assert comparable(read_records(tmp_path / "ray")) == comparable(read_records(tmp_path / "local"))
    assert (tmp_path / "ray" / "summary.json").read_text() == (
        tmp_path / "local" / "summary.json"
    ).read_text()


def test_report_of_a_directory_without_a_run_is_a_clear_error(tmp_path, capsys):
    assert main(["bench", "report", str(tmp_path)]) == 2
    assert "is it a `recworld bench run` directory" in capsys.readouterr().err
    with pytest.raises(ValueError, match="not a directory"):
        write_report(tmp_path / "absent")


def test_a_second_run_on_the_same_directory_is_refused(tmp_path):
    """One run holds its --out directory; another process asking for it gets a clear error."""
    from recworld.benchmarks.runner import RunnerError, run_lock

    out = tmp_path / "out"
    out.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time, pathlib; from recworld.benchmarks.runner import run_lock\n"
         f"with run_lock(pathlib.Path({str(out)!r})):\n    print('held', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(RunnerError, match=rf"in use by another run \(pid {holder.pid}\).*another --out"):
            run_suite(load_suite(write_suite(tmp_path)), out, workers=0, progress=False)
    finally:
        holder.kill()
        holder.wait()
    with run_lock(out):  # released when its holder died
        pass
