"""`pulse`: one command for every service, the simulator, the whole stack and the benchmark."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from services.runtime.logs import configure_logging


def _ingest(_: argparse.Namespace) -> int:
    from services.ingest.app import main

    main()
    return 0


def _monitor(_: argparse.Namespace) -> int:
    from services.monitor.app import main

    main()
    return 0


def _api(_: argparse.Namespace) -> int:
    from services.api.app import main

    main()
    return 0


def _notify(_: argparse.Namespace) -> int:
    from services.notifier.app import main

    main()
    return 0


def _poll(args: argparse.Namespace) -> int:
    from services.poller.app import main

    return main(once=args.once)


def _evaluate(args: argparse.Namespace) -> int:
    from services.evaluation import allocation, flags, harness

    suites = {
        "decay": harness.main_from_args,
        "flags": flags.main_from_args,
        "allocation": allocation.main_from_args,
    }
    chosen = list(suites.values()) if args.suite == "all" else [suites[args.suite]]
    return max([run(args) for run in chosen])


def _backfill(args: argparse.Namespace) -> int:
    from services.ingest.backfill import backfill
    from services.ingest.settings import IngestSettings

    accepted, rejected = backfill(Path(args.file), IngestSettings())
    print(f"accepted {accepted}, rejected {rejected}")
    return 0 if rejected == 0 else 1


def _import(args: argparse.Namespace) -> int:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from services.ingest.csv_import import import_csv
    from services.ingest.settings import IngestSettings

    try:
        zone = ZoneInfo(args.timezone) if args.timezone else None
        accepted, rejected, ignored = import_csv(
            Path(args.file), args.campaign, IngestSettings(), zone
        )
    # The file as a whole (CsvFileError) or a malformed zone name: both are ValueErrors.
    except (ValueError, ZoneInfoNotFoundError, OSError) as exc:
        print(f"pulse import: {exc}", file=sys.stderr)
        return 2
    if ignored:
        print(f"ignored columns: {', '.join(ignored)}", file=sys.stderr)
    print(f"accepted {accepted}, rejected {rejected}")
    return 0 if rejected == 0 else 1


def _simulate(args: argparse.Namespace) -> int:
    from services.simulator.cli import main_from_args

    return main_from_args(args)


def _run(args: argparse.Namespace) -> int:
    from services.runtime.supervisor import run_stack

    return run_stack(simulate=bool(args.simulate))


def _keys(args: argparse.Namespace) -> int:
    from services.runtime.keys_command import main_from_args

    return main_from_args(args)


def _backup(args: argparse.Namespace) -> int:
    from services.settings import SharedSettings
    from services.storage.backup import BackupError, backup

    try:
        made = backup(SharedSettings().database_url, Path(args.file), overwrite=args.overwrite)
    except BackupError as exc:
        print(f"pulse backup: {exc}", file=sys.stderr)
        return 1
    print(f"backed up to {made.path} ({made.size} bytes, {made.method})")
    return 0


def _report(args: argparse.Namespace) -> int:
    from services.reporting.command import main_from_args

    return main_from_args(args)


def _bench(args: argparse.Namespace) -> int:
    from services.bench.run import main_from_args

    return main_from_args(args)


def _benchmarks(args: argparse.Namespace) -> int:
    from services.evaluation.benchmark_table import main_from_args

    return main_from_args(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pulse", description=__doc__)
    parser.add_argument(
        "--log-level",
        default=os.environ.get("PULSE_LOG_LEVEL", "WARNING"),
        help="log level (default: PULSE_LOG_LEVEL or WARNING)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("ingest", help="run the ingest HTTP service").set_defaults(func=_ingest)
    commands.add_parser("monitor", help="run a monitor worker (Faust)").set_defaults(func=_monitor)
    commands.add_parser("api", help="run the status API").set_defaults(func=_api)
    commands.add_parser("notify", help="deliver alerts to webhooks").set_defaults(func=_notify)
    poll = commands.add_parser(
        "poll", help="poll registered posts' platform insights into ingest, on a schedule"
    )
    poll.add_argument("--once", action="store_true", help="poll the posts due now, then exit")
    poll.set_defaults(func=_poll)
    backfill = commands.add_parser("backfill", help="load an NDJSON file of events into Kafka")
    backfill.add_argument("file")
    backfill.set_defaults(func=_backfill)
    load = commands.add_parser("import", help="load a CSV file of post metrics into Kafka")
    load.add_argument("file", help="CSV with a header row; see the README for the columns")
    load.add_argument("--campaign", required=True, help="the campaign every row belongs to")
    load.add_argument(
        "--timezone",
        help="IANA zone (e.g. Europe/Berlin) for times written without one (default: refuse them)",
    )
    load.set_defaults(func=_import)
    simulate = commands.add_parser("simulate", help="feed simulated campaigns to ingest")
    from services.simulator.cli import add_arguments as simulator_arguments

    simulator_arguments(simulate)
    simulate.set_defaults(func=_simulate)
    run = commands.add_parser("run", help="start broker, services and simulator together")
    run.add_argument("--simulate", type=int, choices=(0, 1), default=1)
    run.set_defaults(func=_run)
    keys = commands.add_parser("keys", help="create, list and revoke API keys")
    from services.runtime.keys_command import add_arguments as keys_arguments

    keys_arguments(keys)
    keys.set_defaults(func=_keys)
    backup = commands.add_parser(
        "backup", help="copy the database (DATABASE_URL) consistently while services run"
    )
    backup.add_argument("file", help="where the copy goes (SQLite file or pg_dump archive)")
    backup.add_argument("--overwrite", action="store_true", help="replace an existing FILE")
    backup.set_defaults(func=_backup)
    report = commands.add_parser("report", help="write a weekly review (HTML, PDF or JSON)")
    from services.reporting.command import add_arguments as report_arguments

    report_arguments(report)
    report.set_defaults(func=_report)
    bench = commands.add_parser("bench", help="measure throughput and latency")
    from services.bench.run import add_arguments as bench_arguments

    bench_arguments(bench)
    bench.set_defaults(func=_bench)
    evaluate = commands.add_parser(
        "eval",
        help="score decay detection, suspicious-engagement flags and budget moves on labelled "
        "campaigns",
    )
    from services.evaluation.allocation import add_arguments as allocation_arguments
    from services.evaluation.flags import add_arguments as flag_arguments
    from services.evaluation.harness import add_arguments as evaluation_arguments

    evaluate.add_argument(
        "--suite",
        choices=("all", "decay", "flags", "allocation"),
        default="all",
        help="which evaluation",
    )
    evaluation_arguments(evaluate)
    flag_arguments(evaluate)
    allocation_arguments(evaluate)
    evaluate.set_defaults(func=_evaluate)
    table = commands.add_parser(
        "benchmarks", help="the tier benchmark table measured on simulated campaigns"
    )
    from services.evaluation.benchmark_table import add_arguments as benchmark_arguments

    benchmark_arguments(table)
    table.set_defaults(func=_benchmarks)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.log_level)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
