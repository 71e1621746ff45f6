"""The one exception type of the data layer: it says where the problem is and what to do."""

from __future__ import annotations

from pathlib import Path


class DataError(ValueError):
    """Bad or missing rating data.

    The message names the file (and the line or column where it knows it) and ends with what to
    do about it. ``path`` and ``line`` are kept as attributes so programs can react without parsing
    the message.
    """

    def __init__(
        self,
        problem: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.path = None if path is None else Path(path)
        self.line = line
        self.problem = problem
        self.hint = hint
        where = ""
        if self.path is not None:
            where = f"{self.path}" + (f", line {line}" if line is not None else "") + ": "
        message = where + problem
        if hint:
            message += f" — {hint}"
        super().__init__(message)
