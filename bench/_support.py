"""What bench/web.py needs around the apps: gunicorn processes it always ends, a small HTTP client with cookies,
and a load generator of a few threads.

The client is the standard library's http.client, one connection per thread: gunicorn's sync workers (the class
these figures are measured with) close the connection after every response, so each request opens a new one, as a
browser behind a proxy would cost the app too. Threads are enough to keep 4 workers busy; the client's own share of
the 2 cores is the same for cm-tracker and for the limit app, which is why figures are read as ratios.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """One gunicorn, started in its own process group so that stopping it ends its workers too."""

    def __init__(self, name: str, app: str, env: dict[str, str], workers: int, log: Path) -> None:
        self.name, self.port = name, free_port()
        gunicorn = Path(sys.executable).with_name("gunicorn")
        command = [str(gunicorn)] if gunicorn.exists() else [sys.executable, "-m", "gunicorn"]
        # Sync workers, as these figures have always been measured. gunicorn.conf.py, read from ROOT, sets gthread
        # with `threads = 4` for long exports, and gunicorn runs a "sync" worker with more than one thread as gthread:
        # `--threads 1` is what makes it sync. A gthread worker keeps each client's connection open, and the kernel
        # had given one worker three of the four clients while another sat idle, a different split on every run
        # (docs/performance.md, "bench/web.py").
        command += ["--worker-class", "sync", "--threads", "1", "--workers", str(workers),
                    "--bind", f"127.0.0.1:{self.port}", app]
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        RUNNING.append(self)

    def wait_ready(self, path: str, timeout: float = 60.0) -> None:
        """Until every worker can answer: a few answers in a row, not just the first."""
        deadline, answered = time.monotonic() + timeout, 0
        while answered < 8:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see {self.log}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not answer {path} within {timeout:.0f} s; see {self.log}")
            try:
                status = Client(self.port).request("GET", path).status
                answered = answered + 1 if status < 500 else 0
            except OSError:
                time.sleep(0.2)

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
            except ProcessLookupError:
                pass
        if self in RUNNING:
            RUNNING.remove(self)


RUNNING: list[Server] = []


def stop_all() -> None:
    for server in list(RUNNING):
        server.stop()


@dataclass
class Answer:
    status: int
    body: bytes
    headers: list[tuple[str, str]]

    def json(self) -> Any:
        return json.loads(self.body)


class Client:
    """One connection (reopened after each response gunicorn closes) and a cookie jar of name -> value."""

    def __init__(self, port: int, headers: dict[str, str] | None = None) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = dict(headers or {})
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> Answer:
        sent = self.headers | (headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            self.connection.request(method, path, body=body, headers=sent)
            response = self.connection.getresponse()
            answer = Answer(response.status, response.read(), response.getheaders())
        except (http.client.HTTPException, OSError):
            self.connection.close()
            raise
        if response.will_close:
            self.connection.close()
        for name, value in answer.headers:
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                cookie = rest.split(";", 1)[0]
                if cookie and "expires=thu, 01 jan 1970" not in value.lower():
                    self.cookies[key.strip()] = cookie
                else:
                    self.cookies.pop(key.strip(), None)
        return answer

    def post_json(self, path: str, data: Any) -> Answer:
        return self.request("POST", path, json.dumps(data).encode(), {"Content-Type": "application/json"})

    def sign_in(self, username: str, password: str) -> None:
        """Through the real sign-in form: read its CSRF token, post the form, keep the session cookie."""
        page = self.request("GET", "/sign-in")
        found = CSRF.search(page.body.decode())
        if page.status != 200 or not found:
            raise RuntimeError(f"sign-in page: {page.status}, CSRF token {'found' if found else 'missing'}")
        form = urlencode({"username": username, "password": password, "csrf_token": found[1]}).encode()
        answer = self.request("POST", "/sign-in", form, {"Content-Type": "application/x-www-form-urlencoded"})
        if answer.status != 302:
            raise RuntimeError(f"sign-in of {username} answered {answer.status}, not a redirect")


@dataclass
class Load:
    """Latencies (seconds) of the requests that finished inside the measured window, and what went wrong."""

    seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def p95(self) -> float:
        return percentile(self.latencies, 0.95)


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile: the smallest value with at least `share` of the values at or below it."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * share // 1))
    return ordered[int(rank) - 1]


def drive(clients: list[Callable[[int], Answer]], seconds: float, warmup: float = 1.0,
          ok: tuple[int, ...] = (200,)) -> Load:
    """Run each client in its own thread as fast as it is answered: `warmup` seconds unmeasured, then `seconds`.

    A client is called with its running request number and returns the answer; a status outside `ok` counts as an
    error (by status) and its time is not kept. Every thread stops by itself at the end of the window.
    """
    start = time.monotonic() + warmup
    end = start + seconds
    load = Load(seconds)
    lock = threading.Lock()

    def run(call: Callable[[int], Answer]) -> None:
        n, kept, failed = 0, [], {}
        while True:
            began = time.monotonic()
            if began >= end:
                break
            try:
                status = call(n).status
                problem = None if status in ok else f"HTTP {status}"
            except (OSError, http.client.HTTPException) as exc:
                problem = type(exc).__name__
            took = time.monotonic() - began
            n += 1
            if start <= began + took <= end:  # finished inside the window: rate = count / seconds
                if problem is None:
                    kept.append(took)
                else:
                    failed[problem] = failed.get(problem, 0) + 1
        with lock:
            load.latencies.extend(kept)
            for key, count in failed.items():
                load.errors[key] = load.errors.get(key, 0) + count

    threads = [threading.Thread(target=run, args=(c,), daemon=True) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return load


def paired(app: list[Callable[[int], Answer]], limit: list[Callable[[int], Answer]], seconds: float,
           rounds: int = 5, app_ok: tuple[int, ...] = (200,), limit_ok: tuple[int, ...] = (200,)) \
        -> tuple[Load, Load]:
    """The app's clients and the limit's in turn, `rounds` slices of `seconds / rounds` each, merged.

    The machine is shared: another job's burst would land on one side of a comparison measured in one block
    each. Alternating slices spread such bursts over both, so the ratio holds even when the absolute figures move.
    Request numbers go on across slices (a desk entry's collection time stays unique).
    """
    slice_, offsets = seconds / rounds, [[0] * len(app), [0] * len(limit)]
    merged = (Load(0.0), Load(0.0))
    for round_ in range(rounds):
        for side, (clients, ok) in enumerate(((app, app_ok), (limit, limit_ok))):
            counted = [_numbered(c, offsets[side], k) for k, c in enumerate(clients)]
            load = drive(counted, slice_, warmup=1.0 if round_ == 0 else 0.2, ok=ok)
            merged[side].seconds += load.seconds
            merged[side].latencies.extend(load.latencies)
            for key, count in load.errors.items():
                merged[side].errors[key] = merged[side].errors.get(key, 0) + count
    return merged


def _numbered(call: Callable[[int], Answer], offsets: list[int], k: int) -> Callable[[int], Answer]:
    """`call` with request numbers that go on from the previous slice's."""
    def numbered(_n: int) -> Answer:
        n = offsets[k]
        offsets[k] += 1
        return call(n)

    return numbered
