"""One signed POST to a webhook through the egress guard, as an ``Attempt``.

Used by the notifier for every delivery and by the API's "send test", so both are signed and
guarded alike. The whole attempt (resolution, connection, the answer's headers) is bounded by one
deadline, since per-phase timeouts let a receiver that trickles bytes hold a delivery for ever;
the answer's body is never read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime

import httpx

from services.notifier.schedule import Attempt, attempt_of
from services.notifier.signing import signed_headers
from services.runtime.egress import EgressRefused

USER_AGENT = "campaign-pulse-notifier"


class Sender:
    def __init__(self, client: httpx.AsyncClient, timeout: float) -> None:
        self._client = client
        self._timeout = timeout

    async def send(
        self, url: str, message_id: str, body: bytes, secrets: Sequence[str], now: datetime
    ) -> Attempt:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            **signed_headers(secrets, message_id, int(now.timestamp()), body),
        }
        try:
            async with (
                asyncio.timeout(self._timeout),
                self._client.stream("POST", url, content=body, headers=headers) as response,
            ):
                return attempt_of(response.status_code, response.headers.get("retry-after"), now)
        except EgressRefused as exc:
            return Attempt(None, f"refused: {exc}")
        except TimeoutError:
            return Attempt(None, f"no answer within {self._timeout:g} s")
        except httpx.InvalidURL as exc:
            return Attempt(None, f"refused: not a valid URL ({exc})")
        except httpx.HTTPError as exc:
            return Attempt(None, f"unreachable: {type(exc).__name__} {exc}".strip())
