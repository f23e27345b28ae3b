"""The ceiling Faust puts on a monitor worker: a bare agent that only decodes the event topic.

It runs with the monitor's own broker and consumer settings (``faust_app``), iterates the same
topic and JSON-decodes every message, with no validation, state, changelog or snapshot. The
benchmark runs it as a separate process, between the raw aiokafka consumer and the real monitor,
so the three figures come from the same messages on the same broker.
"""

from __future__ import annotations

import os
import signal
import time
import uuid

import orjson
from faust.types import StreamT

from services.bench.phase import phase_parser
from services.monitor.app import faust_app, raw_topic, run_worker
from services.monitor.settings import MonitorSettings


def main() -> None:
    parser = phase_parser(__doc__)
    args = parser.parse_args()
    settings = MonitorSettings(
        kafka_bootstrap_servers=args.bootstrap,
        app_id=f"bench-faust-floor-{uuid.uuid4().hex[:8]}",
        data_dir=str(args.output.parent / "faust-floor"),
    )
    app = faust_app(settings)

    @app.agent(raw_topic(app, args.topic))
    async def decode(stream: StreamT[bytes]) -> None:
        seen = 0
        started: float | None = None
        async for value in stream:
            started = started or time.perf_counter()
            decoded = orjson.loads(value)
            seen += len(decoded) if isinstance(decoded, list) else 1
            if seen >= args.expected:
                rate = seen / (time.perf_counter() - started)
                args.output.write_text(f"{rate}\n")
                os.kill(os.getpid(), signal.SIGTERM)

    run_worker(app, "warning")


if __name__ == "__main__":
    main()
