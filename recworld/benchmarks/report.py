"""The report of a benchmark run, rebuilt from its records alone (``recworld bench report DIR``).

Writes into DIR:

- ``summary.json``: per environment and agent, every metric's mean and interquartile mean with
  95% two-level bootstrap intervals (`recworld.numerics.statistics`), the ranking by the environment's
  score metric, the probability of improvement for the pairs that matter, the pooled reward and
  learning curves, the cells that failed or are missing, and the versions and machines that
  produced the records. It holds no timing, so a resumed run and an uninterrupted one give the
  same file.
- ``report.md``: one table per environment (agents sorted by score, with intervals), the
  comparisons, the failed cells with their tracebacks, compute time, versions and machine.
- PNG plots (matplotlib's explicit API on Agg): ``<env>_scores.png`` (final scores with intervals),
  ``<env>_profile.png`` (each agent's score distribution: the share of users above each threshold),
  ``<env>_curves.png`` (mean reward at step t with 95% bands: the cold-start curves) and, when some
  agent trains, ``<env>_learning.png`` (learning curves, mean over seeds with 95% bands).

The records used are those of the cells of ``DIR/suite.json`` (records of another configuration
of the same key are stale and ignored); without ``suite.json``, every record in ``DIR/records``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from recworld.benchmarks.markdown import render_markdown
from recworld.benchmarks.plots import make_plots
from recworld.benchmarks.records import write_atomic, write_json
from recworld.benchmarks.summary import expected_cells, load_run, summarize_run


def write_report(out: str | Path) -> dict[str, Any]:
    """Rebuild ``summary.json``, the plots and ``report.md`` in ``out`` from its records."""
    out = Path(out)
    suite, records = load_run(out)
    summary = summarize_run(suite, records)
    write_json(out / "summary.json", summary)
    plots = make_plots(out, summary)
    cells, stale = expected_cells(suite, records)
    used = {c.key: records[c.key] for c in cells if c.key in records and c.key not in stale}
    write_atomic(out / "report.md", render_markdown(summary, plots, used).encode("utf-8"))
    return summary
