"""The files of a benchmark run directory, written atomically.

::

    DIR/suite.json            the resolved suite (written when a run starts)
    DIR/suite.toml            the suite file as given
    DIR/records/<key>.json    one `Record` per cell (`recworld.benchmarks.cell.run_cell`), key
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
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from typing_extensions import TypedDict

from recworld.benchmarks.suite import Cell
from recworld.numerics.files import write_atomic

RECORD_VERSION = 1


class CellError(TypedDict):
    """Why a cell failed: the phase (``agent``, ``fit``, ``evaluate``, ``worker``, ``ray``), the
    exception's type and message, and its traceback."""

    phase: str
    type: str
    message: str
    traceback: str


class Curve(TypedDict):
    """The reward at each step, mean and standard deviation over ``n`` users (Replay: matched rounds)."""

    mean: list[float]
    std: list[float]
    n: int


AgentInfo = TypedDict("AgentInfo", {"class": str, "learns_offline": bool, "privileged": bool})


class Record(BaseModel):
    """What one cell gave, as ``records/<key>.json`` holds it (the field names are the file's keys,
    so the records of earlier runs load). A failed cell has an ``error`` and empty results; a metric
    undefined for every user is NaN here and null in the file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    record_version: int = RECORD_VERSION
    key: str
    cell: Cell
    versions: dict[str, str]
    machine: str
    status: Literal["ok", "failed"]
    seconds: dict[str, float]
    error: CellError | None = None
    agent_info: AgentInfo | None = None
    kind: str | None = None
    env_info: dict[str, Any] = {}
    n_users: int = 0
    users: list[int] = []
    metrics: dict[str, float | None] = {}
    cell_metrics: dict[str, float] = {}
    per_user: dict[str, list[float | None]] = {}
    curve: Curve = Field(default_factory=lambda: Curve(mean=[], std=[], n=0))
    learning_curve: list[list[float]] = []

    @model_validator(mode="after")
    def _failed_with_an_error(self) -> Record:
        """A failed record, and only a failed one, says why."""
        if (self.status == "failed") != (self.error is not None):
            raise ValueError(f"a record with status {self.status!r} has error {self.error!r}")
        return self


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


def write_record(out: Path, record: Record) -> None:
    """Write ``record`` to ``out/records/<key>.json``."""
    write_json(record_path(out, record.key), record.model_dump(mode="json"))


def read_records(out: Path) -> dict[str, Record]:
    """Every record in ``out/records`` by key (leftover temporary files are ignored).

    A record that is not a valid `Record` cannot come from this writer; it raises with its path."""
    found = {}
    for path in sorted(records_dir(out).glob("*.json")):
        record = _read_record(path)
        found[record.key] = record
    return found


def _read_record(path: Path) -> Record:
    try:
        return Record.model_validate_json(path.read_text(encoding="utf-8"))
    except OSError as err:
        why = str(err)
    except ValidationError as err:
        first = err.errors()[0]
        why = f"{'.'.join(map(str, first['loc'])) or 'not JSON'}: {first['msg']}"
    raise ValueError(f"record {path} cannot be read ({why}); delete it and run again with --resume")


def clean_temporary(out: Path) -> None:
    """Remove temporary files a killed run left behind."""
    for path in records_dir(out).glob(".*.tmp"):
        path.unlink(missing_ok=True)
