"""Where numba caches recworld's compiled code, and when that cache is stale.

Numba stamps a cached function with a hash of its own source file only. recworld's compiled functions
call each other across files (Elicitation's step calls the shared answer and history pieces, every step
calls the counter draws), so a change to one file would leave the functions of another running a
stale copy of what they call. recworld's functions are therefore stamped with a hash of every recworld
source file that uses numba: a change to any of them compiles all of them afresh, once. The cache stays
where numba would put it (``__pycache__`` beside the sources, or ``NUMBA_CACHE_DIR`` when set).

Installed before any recworld module compiles anything (``recworld/__init__.py`` imports this first).
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any

from numba.core import caching

PACKAGE = Path(__file__).resolve().parent


@cache
def package_stamp() -> bytes:
    """A hash of the contents of every recworld source file that uses numba."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_bytes()
        if b"numba" in text:
            digest.update(path.relative_to(PACKAGE).as_posix().encode())
            digest.update(text)
    return digest.digest()


class _PackageStamp:
    """A locator for recworld's own files only, stamped with `package_stamp`."""

    def get_source_stamp(self) -> bytes:
        return package_stamp()

    @classmethod
    def from_function(cls, py_func: Any, py_file: str) -> Any:
        if not Path(py_file).resolve().is_relative_to(PACKAGE):
            return None
        return super().from_function(py_func, py_file)  # type: ignore[misc]


class PackageCacheLocator(_PackageStamp, caching.InTreeCacheLocator):
    """In ``__pycache__`` beside the sources (numba's default)."""


class PackageUserCacheLocator(_PackageStamp, caching.UserProvidedCacheLocator):
    """In ``NUMBA_CACHE_DIR`` when it is set."""


def install() -> None:
    """Put recworld's locators first in numba's list (once)."""
    locators = caching.CacheImpl._locator_classes
    for locator in (PackageCacheLocator, PackageUserCacheLocator):  # the user-provided one ends first
        if locator not in locators:
            locators.insert(0, locator)
