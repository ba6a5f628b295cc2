"""The visits-per-week migration (b7e1c4d9a2f6) converts what is stored: a visit plan's fixed days become its
default days and their number its visits a week, and every enrollment of that programme keeps exactly those days,
so that no visit moves. It runs on SQLite, and on PostgreSQL with TEST_POSTGRES_URL (tests/test_migrations.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import text
from test_migrations import empty_database  # noqa: F401  (the fixture: SQLite, or a throwaway PostgreSQL database)

from config import TestConfig

BEFORE, AFTER = "a8d4e2c6f1b3", "b7e1c4d9a2f6"
OLD_PLAN = [{"from_week": 1, "to_week": 12, "days": ["mon", "thu"]}, {"from_week": 13, "to_week": 24, "days": ["mon"]}]


@pytest.fixture
def app_before(empty_database: str) -> Iterator[Flask]:  # noqa: F811
    from cm_tracker import create_app
    from cm_tracker.extensions import db

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = empty_database

    application = create_app(Config)
    with application.app_context():
        upgrade(revision=BEFORE)
        _seed()
        yield application
        db.session.remove()
        db.engine.dispose()


def _seed() -> None:
    from cm_tracker.extensions import db

    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    with db.engine.begin() as conn:
        for pid, name, plan in ((1, "California-like", json.dumps(OLD_PLAN)), (2, "Three a week", None)):
            conn.execute(text(
                "INSERT INTO programs (id, name, description, point_value_cents, weeks, visit_days, visit_plan, "
                "cap_cents, cap_window, dilute_policy, funding_source, requires_two_person_handover, is_archived, "
                "version, created_at) VALUES (:id, :name, '', 25, 24, :days, :plan, 59900, 'episode', 'failure', '', "
                "false, false, 1, :now)"), {"id": pid, "name": name, "plan": plan, "now": now,
                                          "days": json.dumps(["mon", "thu"] if plan else ["mon", "wed", "fri"])})
            conn.execute(text("INSERT INTO patients (id, display_name, record_number, created_at, version) "
                              "VALUES (:id, 'P', :mrn, :now, 1)"), {"id": pid, "mrn": f"MRN-{pid}", "now": now})
            conn.execute(text(
                "INSERT INTO enrollments (id, patient_id, program_id, start_on, status, visit_days, created_at, "
                "version) VALUES (:id, :id, :id, :start, 'active', '[]', :now, 1)"),
                {"id": pid, "start": date(2026, 3, 2), "now": now})


def _plans(table: str) -> dict[int, object]:
    from cm_tracker.extensions import db

    with db.engine.connect() as conn:
        rows = conn.execute(text(f"SELECT id, visit_plan FROM {table} ORDER BY id")).all()
    return {i: json.loads(plan) if isinstance(plan, str) else plan for i, plan in rows}


def test_a_plans_days_become_its_visits_a_week_and_default_days(app_before: Flask) -> None:
    upgrade(revision=AFTER)
    assert _plans("programs") == {
        1: [{"from_week": 1, "to_week": 12, "per_week": 2, "days": ["mon", "thu"]},
            {"from_week": 13, "to_week": 24, "per_week": 1, "days": ["mon"]}],
        2: None}


def test_each_enrollment_keeps_the_days_it_had(app_before: Flask) -> None:
    upgrade(revision=AFTER)
    assert _plans("enrollments") == {1: _plans("programs")[1], 2: None}


def test_downgrading_gives_the_plans_back_as_they_were(app_before: Flask) -> None:
    upgrade(revision=AFTER)
    downgrade(revision=BEFORE)
    assert _plans("programs") == {1: OLD_PLAN, 2: None}
