"""Real headless Chromium, driven over the DevTools protocol on a pipe.

``--dump-dom`` with ``--virtual-time-budget`` cannot be used on a page that holds a Server-Sent
Events stream open: virtual time does not advance while a network request is pending, so Chromium
never reaches its budget. Instead the browser runs in real time with ``--remote-debugging-pipe``
(commands on fd 3, replies on fd 4, each message JSON ended by a NUL byte) and the test waits for
the page's own rendering, then reads the DOM and takes a screenshot.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import signal
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Any

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--remote-debugging-pipe",
)


CLOSE_SECONDS = 10


def _above_stdio_and_pipe(fds: tuple[int, int]) -> tuple[int, int]:
    """The same pipe on fds of 10 or more, so moving it to fds 3 and 4 cannot clobber either end."""
    moved = tuple(fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in fds)
    for fd in fds:
        os.close(fd)
    return moved[0], moved[1]


def chromium_binary() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Chromium:
    """One headless browser with one page; every call is bounded by ``deadline`` seconds."""

    def __init__(self, binary: str, user_data_dir: Path, deadline: float = 60) -> None:
        self.deadline = time.monotonic() + deadline
        self._next_id = 0
        self._buffer = b""
        self.events: list[dict[str, Any]] = []
        commands_read, self._commands = _above_stdio_and_pipe(os.pipe())
        self._replies, replies_write = _above_stdio_and_pipe(os.pipe())
        # The browser wants the pipe ends at exactly fds 3 and 4; bash (dash stops at fd 9) moves
        # them there, which, unlike a preexec_fn, is safe in a process with threads.
        environment = {**os.environ, "CDP_IN": str(commands_read), "CDP_OUT": str(replies_write)}
        self.process = subprocess.Popen(
            [
                "/bin/bash",
                "-c",
                'exec "$0" "$@" 3<&"$CDP_IN" 4>&"$CDP_OUT"',
                binary,
                *FLAGS,
                f"--user-data-dir={user_data_dir}",
                "about:blank",
            ],
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(commands_read, replies_write),
            start_new_session=True,
        )
        os.close(commands_read)
        os.close(replies_write)
        target = self._call("Target.createTarget", {"url": "about:blank"})
        attached = self._call(
            "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}
        )
        self._session = attached["sessionId"]

    def __enter__(self) -> Chromium:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Ask the browser to quit; kill its process group (it leads one) if it will not."""
        try:
            self.deadline = time.monotonic() + CLOSE_SECONDS
            self._call("Browser.close")
            self.process.wait(timeout=CLOSE_SECONDS)
        except (OSError, RuntimeError, TimeoutError, subprocess.TimeoutExpired):
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=CLOSE_SECONDS)
        finally:
            os.close(self._commands)
            os.close(self._replies)

    def _remaining(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("Chromium did not finish within its deadline")
        return left

    def _message(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._replies], [], [], self._remaining())
            if not ready:
                raise TimeoutError("Chromium did not answer within its deadline")
            chunk = os.read(self._replies, 1 << 20)
            if not chunk:
                raise RuntimeError(f"Chromium exited with {self.process.wait(timeout=10)}")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        parsed: dict[str, Any] = json.loads(message)
        return parsed

    def _call(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> dict[str, Any]:
        self._next_id += 1
        command: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            command["sessionId"] = session
        os.write(self._commands, json.dumps(command).encode() + b"\0")
        while True:
            message = self._message()
            if message.get("id") != self._next_id:
                if "method" in message:
                    self.events.append(message)  # kept for console_errors
                continue
            if "error" in message:
                raise RuntimeError(f"{method} failed: {message['error']}")
            result: dict[str, Any] = message["result"]
            return result

    def page(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._call(method, params, self._session)

    def open(self, url: str, width: int, height: int) -> None:
        self.page(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )
        navigated = self.page("Page.navigate", {"url": url})
        if "errorText" in navigated:
            raise RuntimeError(f"cannot load {url}: {navigated['errorText']}")
        self.wait_for(f"location.href === {json.dumps(url)} && document.readyState === 'complete'")

    def watch_console(self) -> None:
        """From now on, keep the page's console messages and uncaught errors as events."""
        self.page("Runtime.enable")
        self.page("Log.enable")

    def console_errors(self) -> list[str]:
        """Errors logged or thrown since ``watch_console``: console.error, uncaught exceptions,
        and the browser's own log entries at error level (a refused resource, a CSP breach)."""
        errors = []
        for event in self.events:
            method, params = event["method"], event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") == "error":
                errors.append(str(params.get("args")))
            elif method == "Runtime.exceptionThrown":
                errors.append(str(params.get("exceptionDetails")))
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                errors.append(str(params["entry"].get("text")))
        return errors

    def evaluate(self, expression: str) -> Any:
        reply = self.page("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in reply:
            raise RuntimeError(f"{expression!r} threw: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def wait_for(self, expression: str, every: float = 0.2) -> Any:
        """Evaluate ``expression`` until it is truthy; return that value."""
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(min(every, self._remaining()))

    def click(self, selector: str) -> None:
        """A real mouse click in the middle of the element, as a user's would land."""
        x, y = self.wait_for(
            f"(() => {{ const node = document.querySelector({json.dumps(selector)});"
            " if (!node || node.hidden || !node.offsetParent) return null;"
            " const box = node.getBoundingClientRect();"
            " return [box.x + box.width / 2, box.y + box.height / 2]; })()"
        )
        for kind in ("mousePressed", "mouseReleased"):
            self.page(
                "Input.dispatchMouseEvent",
                {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1},
            )

    def type_into(self, selector: str, text: str) -> None:
        """Click the field and type ``text`` into it, as keyboard input."""
        self.click(selector)
        self.page("Input.insertText", {"text": text})

    def dom(self) -> str:
        html: str = self.evaluate("document.documentElement.outerHTML")
        return html

    def screenshot(self, path: Path) -> None:
        shot = self.page("Page.captureScreenshot", {"format": "png"})
        path.write_bytes(base64.b64decode(shot["data"]))
