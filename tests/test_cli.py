import json

import pytest

from recworld.cli import main
from tests.data.formats import RATINGS, write_ml1m


def test_info_json_on_a_directory(tmp_path, capsys):
    write_ml1m(tmp_path)
    assert main(["data", "info", "--path", str(tmp_path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["ratings"] == len(RATINGS) and summary["users"] == 4 and summary["items"] == 4
    assert set(summary["rating_histogram"]) == {"1", "2", "3", "4", "5"}


def test_info_text_shows_a_histogram(tmp_path, capsys):
    write_ml1m(tmp_path)
    assert main(["data", "info", "--path", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "ratings   7" in out and "#" in out and "rating histogram" in out


def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    (tmp_path / "u.data").write_text("1\t2\t3\t4\n1\t2\tbad\t5\n")
    assert main(["data", "info", "--path", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("recworld: error: ") and "u.data, line 2" in err and "Traceback" not in err


def test_name_and_path_are_exclusive(tmp_path, capsys):
    assert main(["data", "info"]) == 2
    assert "give a dataset name or --path" in capsys.readouterr().err


def test_list_prints_one_name_per_line(capsys):
    assert main(["data", "list"]) == 0
    assert "movielens-100k" in capsys.readouterr().out.splitlines()


def test_unknown_dataset_name_is_refused(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["data", "fetch", "ml-99"])
    assert exit_info.value.code == 2
