"""Run a suite's cells in worker processes (local) or as Ray tasks, one atomic record per cell.

``recworld bench run --suite NAME|PATH --out DIR [--resume] [--workers N] [--backend local|ray]
[--ray-address ADDR]`` calls `run_suite`:

- **Cells** run in worker processes: a local pool of ``N`` processes (started with ``spawn``, one
  BLAS/torch thread each, killed with their parent on Linux), or Ray tasks of one CPU each on a
  local Ray instance of ``N`` CPUs or the cluster at ``--ray-address``. The cell code is the same
  (`recworld.benchmarks.cell.run_cell`), so both give the same records for the same seeds. A progress
  bar with an ETA covers the whole suite (shown on terminals).
- **Records.** Each finished cell is written atomically to ``DIR/records/<key>.json`` by this
  process as soon as its result arrives. A run killed (even by SIGKILL) and restarted with
  ``--resume`` keeps every record whose cell is unchanged and succeeded, reruns the rest, and
  ends with the same table as an uninterrupted run. Without ``--resume``, a directory that already
  holds records is refused rather than mixed with a new run.
- **Failures.** A cell that raises becomes a record with ``status="failed"``, its phase and
  traceback; a worker process that dies is retried once alone, then recorded the same way. Failed
  cells are listed at the end and the command exits non-zero; ``--resume`` retries them.

When every cell has a record, the report is (re)built (`recworld.benchmarks.report.write_report`).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recworld.benchmarks.cell import error_info, machine, run_cell, versions
from recworld.benchmarks.records import (
    Record,
    clean_temporary,
    read_records,
    records_dir,
    write_atomic,
    write_json,
    write_record,
)
from recworld.benchmarks.suite import Cell, Suite

BACKENDS = ("local", "ray")
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")

OnRecord = Callable[[Record], None]


class RunnerError(ValueError):
    """A run that cannot start: an output directory in use, a missing backend, bad worker count."""


@dataclass
class RunResult:
    """What `run_suite` did: cells in the suite, run now, kept from before, and the failed records."""

    out: Path
    total: int
    ran: int
    kept: int
    failed: list[Record] = field(default_factory=list)
    summary: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return not self.failed


def failed_record(cell: Cell, err: BaseException, phase: str = "worker") -> Record:
    """The record of a cell whose worker failed outside `run_cell` (a dead process, a Ray error)."""
    return Record(
        key=cell.key,
        cell=cell,
        versions=versions(),
        machine=machine(),
        status="failed",
        error=error_info(err, phase),
        seconds={},
    )


def pending_cells(suite: Suite, out: Path, *, resume: bool) -> tuple[list[Cell], int]:
    """The cells still to run and the number of finished ones kept (see the module docstring)."""
    cells = suite.cells()
    existing = read_records(out) if records_dir(out).is_dir() else {}
    if existing and not resume:
        raise RunnerError(
            f"{out} already holds {len(existing)} records of a run; pass --resume to continue it "
            "(finished cells are kept) or choose another --out"
        )
    todo = []
    for cell in cells:
        record = existing.get(cell.key)
        if record is not None and record.status == "ok" and record.cell == cell:
            continue
        todo.append(cell)
    return todo, len(cells) - len(todo)


def run_suite(
    suite: Suite,
    out: str | Path,
    *,
    resume: bool = False,
    workers: int | None = None,
    backend: str = "local",
    ray_address: str | None = None,
    progress: bool | None = None,
    report: bool = True,
    suite_text: str | None = None,
) -> RunResult:
    """Run every cell of ``suite`` not already finished in ``out`` and write the report.

    ``workers``: processes (local) or CPUs of a local Ray instance / tasks in flight on a cluster;
    default: this machine's CPU count (the cluster's CPU count with ``ray_address``). ``workers=0``
    runs the cells in this process (for debugging).
    ``progress``: None shows the bar on terminals only.
    """
    if backend not in BACKENDS:
        raise RunnerError(f"backend {backend!r} is not one of {', '.join(BACKENDS)}")
    if workers is not None and workers < 0:
        raise RunnerError(f"--workers must be 0 (in this process) or more, got {workers}")
    if workers == 0 and backend == "ray":
        raise RunnerError("--workers 0 runs cells in this process; with --backend ray give 1 or more")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with run_lock(out):
        return _run_locked(suite, out, resume, workers, backend, ray_address, progress, report, suite_text)


@contextlib.contextmanager
def run_lock(out: Path) -> Iterator[None]:
    """Hold ``out/.lock`` for the run: a second run on the same directory is refused (it would run
    every cell again, and a different suite would mix its records in). The operating system drops
    the lock when the process ends, however it ends."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        yield
        return
    with open(out / ".lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise RunnerError(
                f"{out} is in use by another run ({holder}); wait for it to finish, or choose another --out"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run_locked(
    suite: Suite,
    out: Path,
    resume: bool,
    workers: int | None,
    backend: str,
    ray_address: str | None,
    progress: bool | None,
    report: bool,
    suite_text: str | None,
) -> RunResult:
    todo, kept = pending_cells(suite, out, resume=resume)
    clean_temporary(out)
    write_json(out / "suite.json", suite.model_dump(mode="json"))
    if suite_text is None and suite.source and Path(suite.source).is_file():
        suite_text = Path(suite.source).read_text(encoding="utf-8")
    if suite_text is not None:
        write_atomic(out / "suite.toml", suite_text.encode("utf-8"))
    total = kept + len(todo)
    result = RunResult(out=out, total=total, ran=len(todo), kept=kept)
    if workers is None and not (backend == "ray" and ray_address):
        workers = max(1, min(os.cpu_count() or 1, len(todo)))

    from tqdm.auto import tqdm

    bar = tqdm(
        total=total,
        initial=kept,
        unit="cell",
        desc=f"{suite.name}",
        disable=None if progress is None else not progress,
        file=sys.stderr,
        dynamic_ncols=True,
    )

    def on_record(record: Record) -> None:
        write_record(out, record)
        if (error := record.error) is not None:
            result.failed.append(record)
            message = f"{error['type']}: {error['message']}".splitlines()[0][:160]
            bar.write(f"failed: {record.key} ({error['phase']}): {message}", file=sys.stderr)
        bar.set_postfix_str(record.key, refresh=False)
        bar.update(1)

    try:
        if todo:
            warm_up(todo)
            if backend == "ray":
                run_ray(todo, on_record, workers=workers, address=ray_address)
            elif workers == 0:
                for cell in todo:
                    on_record(run_cell(cell))
            else:
                run_local(todo, on_record, workers=workers or 1)
    finally:
        bar.close()
    if report:
        from recworld.benchmarks.report import write_report

        result.summary = write_report(out)
    return result


def warm_up(cells: Sequence[Cell]) -> None:
    """Fit (or load) each named simulator once here, so that workers read it from the disk cache
    instead of fitting it side by side. Errors are left for the cells to record."""
    seen = set()
    for cell in cells:
        dataset = cell.env_kwargs.get("dataset", "movielens-100k")
        family = cell.env_kwargs.get("simulator", "latent-factor")
        if not isinstance(dataset, str) or not isinstance(family, str) or (dataset, family) in seen:
            continue
        seen.add((dataset, family))
        try:
            from recworld.data.fetch import DATASETS
            from recworld.simulators.cache import load_or_fit
            from recworld.simulators.families import FAMILIES

            if dataset in DATASETS and family in FAMILIES:
                load_or_fit(dataset, family)
        except Exception:  # a cell that needs this world records the error itself
            continue


@contextlib.contextmanager
def single_threaded_children() -> Iterator[None]:
    """Set the BLAS/OpenMP thread variables to 1 while worker processes start (they inherit the
    environment); Ray sets the same for its one-CPU tasks, so both backends compute alike."""
    saved = {name: os.environ.get(name) for name in THREAD_VARIABLES}
    os.environ.update({name: "1" for name in THREAD_VARIABLES})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _worker_init(parent: int) -> None:
    """Make a pool worker die with the process that started it (Linux), so that a run killed with
    SIGKILL leaves no worker computing (and writing) behind."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes
            import signal

            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def run_local(cells: Sequence[Cell], on_record: OnRecord, *, workers: int) -> None:
    """Run cells in a pool of ``workers`` processes; a cell whose process dies is retried once in a
    process of its own whose output is kept, so that its record says why it died."""
    for cell in _run_pool(cells, on_record, workers):
        on_record(run_in_subprocess(cell))


def run_in_subprocess(cell: Cell) -> Record:
    """Run one cell in a fresh interpreter (``python -m recworld.benchmarks.cell``) and return its
    record; if that process dies too, a failed record carrying the end of what it printed."""
    import subprocess

    with single_threaded_children():
        done = subprocess.run(
            [sys.executable, "-m", "recworld.benchmarks.cell"],
            input=cell.model_dump_json(),
            capture_output=True,
            text=True,
            check=False,
        )
    lines = done.stdout.strip().splitlines()
    if done.returncode == 0 and lines:
        try:
            return Record.model_validate_json(lines[-1])
        except ValueError:  # not a record (pydantic's ValidationError is a ValueError)
            pass
    tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-20:])
    how = f"killed by signal {-done.returncode}" if done.returncode < 0 else f"exit status {done.returncode}"
    return failed_record(
        cell,
        RuntimeError(
            f"the worker process running this cell died, twice ({how}; killed, out of memory or a "
            f"crash); the retry printed:\n{tail}"
        ),
    )


def _run_pool(cells: Sequence[Cell], on_record: OnRecord, workers: int) -> list[Cell]:
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    broken: list[Cell] = []
    with single_threaded_children():
        pool = ProcessPoolExecutor(
            max_workers=min(workers, len(cells)),
            mp_context=context,
            initializer=_worker_init,
            initargs=(os.getpid(),),
        )
        futures: dict[Future, Cell] = {pool.submit(run_cell, cell): cell for cell in cells}
    try:
        remaining = set(futures)
        while remaining:
            done, remaining = wait(remaining, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: futures[f].key):
                cell = futures[future]
                try:
                    record = future.result()
                except BrokenProcessPool:
                    broken.append(cell)
                    continue
                except Exception as err:
                    record = failed_record(cell, err)
                on_record(record)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return broken


def run_ray(
    cells: Sequence[Cell], on_record: OnRecord, *, workers: int | None, address: str | None = None
) -> None:
    """Run cells as Ray tasks (one CPU each). Without ``address`` a local Ray instance with
    ``workers`` CPUs is started for the run and stopped after it; with one, the cluster there is
    used (``auto``, ``ray://host:10001`` or ``host:6379``) with at most ``workers`` tasks in flight
    (default: the cluster's CPUs). An already initialised Ray is used as it is.
    recworld must be installed where the tasks run; the simulators and models each node needs are
    fitted into that node's cache on first use."""
    try:
        import ray
    except ImportError:
        raise RunnerError(
            "the Ray backend needs Ray: pip install 'recworld[ray]' (or 'ray[default]'), "
            "or use --backend local"
        ) from None
    import logging

    started_here = not ray.is_initialized()
    if started_here:
        runtime_env = {"env_vars": {name: "1" for name in THREAD_VARIABLES}}
        options: dict[str, Any] = {
            "runtime_env": runtime_env,
            "log_to_driver": False,
            "logging_level": logging.WARNING,
            "include_dashboard": False,
        }
        if address:
            ray.init(address=address, **options)
        else:
            ray.init(num_cpus=workers or os.cpu_count() or 1, **options)
    if workers is None:
        workers = max(1, int(ray.cluster_resources().get("CPU", 1)))
    try:
        task = ray.remote(num_cpus=1, max_retries=1)(run_cell)
        queue = list(cells)
        in_flight: dict[Any, Cell] = {}
        while queue or in_flight:
            while queue and len(in_flight) < workers:
                cell = queue.pop(0)
                in_flight[task.remote(cell)] = cell
            done, _ = ray.wait(list(in_flight), num_returns=1)
            for ref in done:
                cell = in_flight.pop(ref)
                try:
                    record = ray.get(ref)
                except Exception as err:  # the task's worker died, or Ray failed to run it
                    record = failed_record(cell, err, phase="ray")
                on_record(record)
    finally:
        if started_here:
            ray.shutdown()


def format_result(result: RunResult) -> str:
    """What a run did, in a few lines: counts, failed cells, where the report is."""
    lines = [
        f"{result.total} cells: {result.ran} run now, {result.kept} kept from before, "
        f"{len(result.failed)} failed"
    ]
    for record in sorted(result.failed, key=lambda r: r.key):
        if (error := record.error) is not None:
            lines.append(f"  failed {record.key} ({error['phase']}): {error['type']}: {error['message']}")
    if result.failed:
        lines.append(
            f"  tracebacks: {result.out / 'records'}/<key>.json and {result.out / 'report.md'}; "
            "rerun them with --resume"
        )
    lines.append(f"report: {result.out / 'report.md'}")
    return "\n".join(lines)
