"""The production shape: several gunicorn workers share one rate-limit count through Redis (docs/security.md trap:
in-memory counts are per process, so four workers would give an attacker four times the limit)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _post(url: str, body: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


@pytest.fixture
def gunicorn(tmp_path):
    from redis import Redis

    Redis.from_url(REDIS_URL).flushdb()  # database 15 is the tests' own
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'workers.db'}", "REDIS_URL": REDIS_URL,
           "SIGN_IN_LIMIT_PER_ACCOUNT": "3 per minute", "SIGN_IN_LIMIT_PER_ADDRESS": "100 per minute",
           "FLASK_APP": "wsgi", "CM_ENV": "development"}
    flask = [sys.executable, "-m", "flask"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run([*flask, "users", "create", "cora", "--role", "counselor"], cwd=ROOT, env=env, check=True,
                   input=b"correct horse battery staple\n", capture_output=True)
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--worker-class", "gthread", "--workers", "4",
                               "--threads", "4", "--timeout", "30", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60  # four workers booting on a busy CI machine
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/v1/openapi.json", timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("gunicorn did not start")
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(10)


def test_four_workers_share_one_limit_per_account(gunicorn):
    attempt = {"username": "cora", "password": "a wrong password"}
    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(lambda _: _post(f"{gunicorn}/api/v1/auth/tokens", attempt), range(12)))
    assert sorted(codes) == [401] * 3 + [429] * 9


@pytest.fixture
def logged_gunicorn(monkeypatch, tmp_path, request) -> tuple[str, Path]:
    """The same server with its access log on (gunicorn reads GUNICORN_CMD_ARGS), in the format of gunicorn.conf.py."""
    access_log = tmp_path / "access.log"
    monkeypatch.setenv("GUNICORN_CMD_ARGS", f"--access-logfile {access_log}")
    return request.getfixturevalue("gunicorn"), access_log


def test_gunicorn_names_itself_nowhere_and_logs_paths_without_their_query(logged_gunicorn):
    url, access_log = logged_gunicorn
    for path in ("/sign-in?next=/staff/", "/api/v1/patients?q=Pat%20Patient"):
        try:
            server = urllib.request.urlopen(f"{url}{path}", timeout=10).headers["Server"]
        except urllib.error.HTTPError as error:  # the search needs a token: 401
            server = error.headers["Server"]
        assert server == "cm-tracker"
    deadline = time.monotonic() + 10  # a worker writes its line once the answer has left
    while "/api/v1/patients" not in access_log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    logged = access_log.read_text()
    assert '"GET /sign-in HTTP/1.1" 200' in logged and '"GET /api/v1/patients HTTP/1.1" 401' in logged
    assert "next=" not in logged and "Pat" not in logged
