"""The files of a benchmark run directory, written atomically.

::

    DIR/suite.json            the resolved suite (written when a run starts)
    DIR/suite.toml            the suite file as given
    DIR/records/<key>.json    one record per cell (`recworld.benchmarks.cell.run_cell`), key
                              ``{env}__{agent}__{seed}``
    DIR/summary.json          statistics (`recworld.benchmarks.report`)
    DIR/report.md, DIR/*.png  the report

Every file is written to a temporary file in the same directory, flushed to disk, then renamed
over its name, so a reader (or a run resumed after ``kill -9``) sees a whole file or none.
NaN (a metric undefined for a user) is stored as JSON ``null``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from recworld.numerics.files import write_atomic


def jsonable(value: Any) -> Any:
    """``value`` with NaN and infinities as None and tuples as lists (strict JSON)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def write_json(path: Path, value: Any) -> None:
    text = json.dumps(jsonable(value), indent=1, sort_keys=False, allow_nan=False) + "\n"
    write_atomic(path, text.encode("utf-8"))


def records_dir(out: Path) -> Path:
    return Path(out) / "records"


def record_path(out: Path, key: str) -> Path:
    return records_dir(out) / f"{key}.json"


def read_records(out: Path) -> dict[str, dict[str, Any]]:
    """Every record in ``out/records`` by key (leftover temporary files are ignored).

    A record that is not valid JSON cannot come from this writer; it raises with its path."""
    found = {}
    for path in sorted(records_dir(out).glob("*.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as err:
            raise ValueError(
                f"record {path} cannot be read ({err}); delete it and run again with --resume"
            ) from None
        found[record.get("key", path.stem)] = record
    return found


def clean_temporary(out: Path) -> None:
    """Remove temporary files a killed run left behind."""
    for path in records_dir(out).glob(".*.tmp"):
        path.unlink(missing_ok=True)
