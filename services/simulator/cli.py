"""Arguments and entry point of ``pulse simulate``."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from datetime import timedelta
from pathlib import Path

from services.simulator.runner import RunCounts, run_simulation


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--ingest-url", default="http://127.0.0.1:8001", help="base URL of the ingest service"
    )
    parser.add_argument(
        "--api-key",
        default=os.environ.get("PULSE_API_KEY"),
        help="a key with events:write (default: PULSE_API_KEY)",
    )
    parser.add_argument("--seed", type=int, default=7, help="random seed; same seed, same events")
    parser.add_argument("--campaigns", type=int, default=12, help="number of campaigns")
    parser.add_argument(
        "--history-days",
        type=float,
        default=10.0,
        help="the simulated clock starts this many days before now",
    )
    parser.add_argument(
        "--speed",
        type=float,
        default=6 * 3600.0,
        help="simulated seconds per real second until the clock reaches now",
    )
    parser.add_argument("--batch-size", type=int, default=500, help="events per HTTP request")
    parser.add_argument(
        "--truth",
        type=Path,
        default=Path(".run/ground_truth.json"),
        help="where to write the labelled scenarios",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=None,
        help="stop after this many real seconds (default: run until the campaigns end)",
    )


async def _run(args: argparse.Namespace) -> RunCounts:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    return await run_simulation(
        args.ingest_url,
        seed=args.seed,
        campaigns=args.campaigns,
        history=timedelta(days=args.history_days),
        speed=args.speed,
        batch_size=args.batch_size,
        truth_path=args.truth,
        duration=args.duration,
        stop=stop,
        api_key=args.api_key,
    )


def main_from_args(args: argparse.Namespace) -> int:
    counts = asyncio.run(_run(args))
    print(
        f"sent {counts.sent}, accepted {counts.accepted}, rejected {counts.rejected}",
        file=sys.stderr,
    )
    return 0 if counts.rejected == 0 else 1
