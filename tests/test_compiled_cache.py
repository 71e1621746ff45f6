"""recworld's compiled functions are stamped with the whole package, not their own file alone."""

import numba.core.caching as caching

import recworld  # noqa: F401 - installs the locators
from recworld.compiled_cache import PackageCacheLocator, PackageUserCacheLocator, package_stamp
from recworld.envs.compiled import record_batch
from recworld.envs.elicitation_step import elicitation_step
from recworld.numerics.counter import uniform


def test_functions_in_different_files_share_the_package_stamp():
    """So a change to the file of a function another one calls invalidates the caller's cache too."""
    for function in (record_batch, elicitation_step, uniform):
        locator = function._cache._impl.locator
        assert isinstance(locator, PackageCacheLocator | PackageUserCacheLocator)
        assert locator.get_source_stamp() == package_stamp()
    assert caching.CacheImpl._locator_classes[:2] == [PackageUserCacheLocator, PackageCacheLocator]


def test_the_stamp_covers_the_files_that_use_numba(tmp_path, monkeypatch):
    import recworld.compiled_cache as module

    (tmp_path / "kernel.py").write_text("from numba import njit\n")
    (tmp_path / "plain.py").write_text("x = 1\n")
    monkeypatch.setattr(module, "PACKAGE", tmp_path)
    module.package_stamp.cache_clear()
    try:
        before = module.package_stamp()
        module.package_stamp.cache_clear()
        (tmp_path / "plain.py").write_text("x = 2\n")
        assert module.package_stamp() == before  # no numba: not part of the stamp
        module.package_stamp.cache_clear()
        (tmp_path / "kernel.py").write_text("from numba import njit\n# changed\n")
        assert module.package_stamp() != before
    finally:
        module.package_stamp.cache_clear()
