"""How the HTTP services (ingest, API) are served, and how slow or oversized clients are cut off.

Uvicorn bounds only the idle time between requests (``timeout_keep_alive``), and resets that timer
on every byte received: a client that trickles its headers or body a byte at a time holds a
connection, and the memory of what it sent, for as long as it likes. With httptools there is no
bound on the size of the headers either (h11 has ``h11_max_incomplete_event_size``; httptools,
which we use for speed, has none). So:

- the headers of a request must arrive within ``header_timeout_seconds`` of the connection opening
  (or of the request's first byte on a kept-alive connection) and within ``max_header_bytes``,
  else the answer is 408 or 431 and the connection is closed (``_guarded_protocol``);
- its body must arrive within ``body_timeout_seconds`` of the headers, else 408 and the connection
  is closed (``BodyDeadline``, an ASGI middleware: the app reads the body through it);
- beyond ``max_connections`` open connections and requests uvicorn answers 503 at once
  (``limit_concurrency``), so many slow clients cannot exhaust file descriptors and memory.

A slow client therefore holds a connection for at most header + body timeout.
"""

from __future__ import annotations

import asyncio
import gc
from dataclasses import dataclass
from typing import Any

import orjson
import uvicorn
from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


@dataclass(frozen=True)
class HttpLimits:
    header_timeout_seconds: float = 10.0
    body_timeout_seconds: float = 30.0
    max_header_bytes: int = 64 * 1024
    max_connections: int = 1000
    keep_alive_seconds: int = 5


def _plain_response(status_line: bytes, reason: str) -> bytes:
    body = reason.encode()
    return (
        status_line
        + b"\r\ncontent-type: text/plain; charset=utf-8\r\nconnection: close\r\n"
        + b"content-length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )


def _guarded_protocol(limits: HttpLimits) -> type[HttpToolsProtocol]:
    """Uvicorn's httptools protocol with a deadline and a size bound on the request headers.

    It hooks the parser callbacks of uvicorn's own protocol (uvicorn is pinned): the timer starts
    when the connection opens or a request's first byte arrives, and stops when the headers are
    complete; the app is only called after that, so an ASGI middleware could not do this part.
    """

    class GuardedHttpToolsProtocol(HttpToolsProtocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._header_timer: asyncio.TimerHandle | None = None
            self._header_bytes = 0
            self._in_headers = True

        def _arm(self) -> None:
            if self._header_timer is None:
                self._header_timer = self.loop.call_later(
                    limits.header_timeout_seconds, self._headers_too_slow
                )

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _refuse(self, status_line: bytes, reason: str) -> None:
            self._disarm()
            if self.transport.is_closing():
                return
            # With a response of an earlier (pipelined) request still going out, a status line
            # would corrupt it: the connection is just closed.
            if self.cycle is None or self.cycle.response_complete:
                self.transport.write(_plain_response(status_line, reason))
            self.transport.close()

        def _headers_too_slow(self) -> None:
            self._header_timer = None
            self._refuse(
                b"HTTP/1.1 408 Request Timeout",
                f"the request headers did not arrive within {limits.header_timeout_seconds} s",
            )

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            counting = self._in_headers
            if counting:
                self._header_bytes += len(data)
            super().data_received(data)
            # Checked after parsing: a chunk that completes the headers may carry body bytes.
            if counting and self._in_headers and self._header_bytes > limits.max_header_bytes:
                self._refuse(
                    b"HTTP/1.1 431 Request Header Fields Too Large",
                    f"the request headers are larger than {limits.max_header_bytes} bytes",
                )

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._in_headers = True
            self._arm()

        def on_headers_complete(self) -> None:
            self._disarm()
            self._in_headers = False
            self._header_bytes = 0
            super().on_headers_complete()

    return GuardedHttpToolsProtocol


class _BodyTimedOut(Exception):
    """Raised into the app from ``receive`` once the 408 has gone out."""


class BodyDeadline:
    """ASGI middleware: the request body must be complete within ``seconds`` of the app being
    called (the headers being complete). Past it the client gets 408 with ``Connection: close``,
    whatever the app makes of the exception ``receive`` raises: its own answer is dropped."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        deadline = asyncio.get_running_loop().time() + self.seconds
        body_complete = False
        started = False
        answered = False

        async def timed_receive() -> Message:
            nonlocal body_complete, answered
            if body_complete:
                # Afterwards receive only reports a disconnect (SSE waits for it): no deadline.
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                if not started:
                    answered = True
                    await _send_timeout(send, self.seconds)
                raise _BodyTimedOut from None
            body_complete = message["type"] != "http.request" or not message.get("more_body")
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if answered:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, timed_receive, tracked_send)
        except _BodyTimedOut:
            if not answered:
                raise


async def _send_timeout(send: Send, seconds: float) -> None:
    body = orjson.dumps({"detail": f"the request body did not arrive within {seconds} s"})
    await send(
        {
            "type": "http.response.start",
            "status": 408,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def serve(app: FastAPI, host: str, port: int, limits: HttpLimits | None = None) -> None:
    limits = limits or HttpLimits()
    app.add_middleware(BodyDeadline, seconds=limits.body_timeout_seconds)
    # The ~130k objects of the imported libraries and the app live as long as the process: moved
    # out of the collector's sight, they no longer make each full collection a 40-60 ms pause.
    gc.freeze()
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning",
        loop="uvloop",
        http=_guarded_protocol(limits),
        timeout_keep_alive=limits.keep_alive_seconds,
        limit_concurrency=limits.max_connections,
    )
