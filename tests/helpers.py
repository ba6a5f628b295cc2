"""Helpers shared by test modules (import them with `from helpers import ...`); the seeded worlds are in
tests/worlds."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from flask import Flask
from flask.testing import FlaskClient

PASSWORD = "correct horse battery staple"


# A Monday at 11:00 at the clinic (America/Los_Angeles), for tests whose figures depend on the weekday an enrolment
# would start (a week-mode schedule's maximum follows the ISO weeks its visits fall in). It lies decades ahead, so a
# browser, whose clock is real, still keeps the cookies a server pinned to it sets.
A_MONDAY = datetime(2090, 1, 2, 19, 0, tzinfo=UTC)


def sign_in(client: FlaskClient, username: str, password: str = PASSWORD) -> None:
    response = client.post("/sign-in", data={"username": username, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def csrf_token_from(client: FlaskClient, path: str) -> str:
    """The CSRF token of the form on `path` (for the CSRF-on app, fixture `csrf_app`)."""
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1) or match.group(2)


def api_token(client: FlaskClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = client.post("/api/v1/auth/tokens", json={"username": username, "password": password})
    assert response.status_code == 201, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def in_threads(app: Flask, count: int, work: Callable[[int], object]) -> list[object]:
    """Run `work` in `count` threads at once, each with its own app context and session."""
    barrier = threading.Barrier(count)
    outcomes: list[object] = []

    def run(i: int) -> None:
        with app.app_context():
            from cm_tracker.extensions import db

            barrier.wait()
            try:
                outcomes.append(work(i))
            except Exception as exc:  # collected for the test to inspect
                outcomes.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return outcomes


@contextmanager
def engine_events(app: Flask, name: str, take: Callable[..., object]) -> Iterator[list[object]]:
    """What `take` makes of each engine event `name` (a SQLAlchemy ConnectionEvents hook) inside the block, in
    order."""
    from sqlalchemy import event

    from cm_tracker.extensions import db

    with app.app_context():
        engine = db.engine
    seen: list[object] = []

    def listener(*args: object) -> None:
        seen.append(take(*args))

    event.listen(engine, name, listener)
    try:
        yield seen
    finally:
        event.remove(engine, name, listener)


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    """The SQL statements run inside the block, in order (a before_cursor_execute listener)."""
    with engine_events(app, "before_cursor_execute", lambda _conn, _cursor, statement, *_: statement) as seen:
        yield seen  # type: ignore[misc]
