"""The arguments every benchmark phase run as a process of its own takes: where the broker and
the topic are, how many events the topic holds, and where the phase writes its result."""

from __future__ import annotations

import argparse
from pathlib import Path


def phase_parser(description: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--expected", type=int, required=True, help="events on the topic")
    parser.add_argument("--output", type=Path, required=True, help="the result is written here")
    return parser
