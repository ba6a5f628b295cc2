"""A read and its audit row are one transaction (services/usecases/access_log.py): the row is committed with the
request, once, before the answer leaves, and a read whose row cannot be written is not answered. Authenticating a
request reads its session or token together with its user, in one statement."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from helpers import api_token, engine_events, sign_in, statements
from worlds.personas import Personas

NOW = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)
pytestmark = pytest.mark.time_machine(NOW, tick=False)
READS_USERS = re.compile(r"\b(FROM|JOIN) users\b")


def commits(app: Flask):
    """One entry per COMMIT sent to the database inside the block."""
    return engine_events(app, "commit", lambda conn: conn)


@contextmanager
def refused_commits() -> Iterator[None]:
    """Every commit of the app's session fails, as on a full disk."""
    from cm_tracker.extensions import db

    def refuse(_session: object) -> None:
        raise OperationalError("COMMIT", {}, Exception("no space left on device"))

    event.listen(db.session, "before_commit", refuse)
    try:
        yield
    finally:
        event.remove(db.session, "before_commit", refuse)


def committed(app: Flask, action: str) -> int:
    """Rows of `action` visible to a connection of its own, i.e. committed."""
    from cm_tracker.extensions import db
    from cm_tracker.models import AuditEvent

    with app.app_context(), db.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)) or 0


def auth_selects(seen: list[str]) -> list[str]:
    return [s for s in seen if s.lstrip().upper().startswith("SELECT")
            and ("api_tokens" in s or "user_sessions" in s or READS_USERS.search(s))]


def test_a_bearer_request_reads_its_token_with_its_user_in_one_select(app, client, personas: Personas):
    headers = api_token(client, "cora")
    path = f"/api/v1/patients/{personas.patient}/balance"
    for touched in (True, False):  # the first use records the token's last use (at the end); the next does not
        with statements(app) as seen:
            assert client.get(path, headers=headers).status_code == 200
        auth = auth_selects(seen)
        assert len(auth) == 1, auth
        assert "api_tokens" in auth[0] and READS_USERS.search(auth[0])
        assert seen[0] == auth[0]
        touches = [s for s in seen if s.lstrip().startswith("UPDATE api_tokens")]
        assert len(touches) == (1 if touched else 0)


def test_a_signed_in_page_reads_its_session_with_its_user_in_one_select(app, client, personas: Personas):
    sign_in(client, "pat")
    with statements(app) as seen:
        assert client.get("/portal/").status_code == 200
    auth = auth_selects(seen)
    assert len(auth) == 1, auth
    assert "user_sessions" in auth[0] and READS_USERS.search(auth[0])


def test_a_portal_read_is_one_commit_and_its_audit_row_is_committed_when_it_answers(app, client, personas):
    sign_in(client, "pat")
    before = committed(app, "patient.view")
    with commits(app) as seen:
        response = client.get("/portal/")
        assert response.status_code == 200
        assert committed(app, "patient.view") == before + 1
    assert len(seen) == 1


def test_an_api_read_is_one_commit_and_its_audit_row_is_committed_when_it_answers(app, client, personas):
    headers = api_token(client, "pat")
    assert client.get("/api/v1/me/balance", headers=headers).status_code == 200  # the token's first use
    with commits(app) as seen:
        assert client.get("/api/v1/me/balance", headers=headers).status_code == 200
        assert committed(app, "patient.view") == 2
    assert len(seen) == 1


def test_a_page_read_whose_audit_row_cannot_be_written_is_not_answered(app, client, personas):
    sign_in(client, "pat")
    with refused_commits():
        response = client.get("/portal/")
    assert response.status_code == 500
    assert "Something went wrong" in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"  # the security headers still apply
    assert committed(app, "patient.view") == 0


def test_an_api_read_whose_audit_row_cannot_be_written_is_not_answered(app, client, personas):
    headers = api_token(client, "cora")
    with refused_commits():
        response = client.get(f"/api/v1/patients/{personas.patient}/balance", headers=headers)
    assert response.status_code == 500
    error = response.get_json()["error"]
    assert error.pop("error_id")  # its reference in the log (tests/security/test_logs.py)
    assert error == {"code": "internal_error", "message": "Something went wrong on our side. Nothing was saved."}
    assert committed(app, "patient.view") == 0


def test_a_streamed_export_has_its_audit_row_committed_before_its_first_byte(app, client, personas):
    sign_in(client, "max")
    response = client.get("/reports/ledger.csv")
    try:
        assert response.status_code == 200
        assert response.is_streamed
        assert committed(app, "report.export") == 1  # nothing of the body has been read yet
        # The header comes below the Part 2 notice, the ledger's first row (it names patients).
        assert response.get_data(as_text=True).split("\r\n")[1].startswith("entry_id,created_at,")
    finally:
        response.close()


def test_a_rollback_in_the_request_keeps_the_read_row_and_drops_what_else_was_left(app, personas):
    from cm_tracker.extensions import db
    from cm_tracker.services.core import audit
    from cm_tracker.services.usecases import access_log

    with app.test_request_context("/"):
        access_log.begin_request()
        access_log.log_now("patient.view", patient_id=personas.patient, object_type="patient")
        db.session.flush()
        db.session.rollback()  # a preview, a refused form, an error handler
        audit.record("stray.write")  # left pending by the request, committed by nobody
        assert committed(app, "patient.view") == 0
        access_log.commit_request()
        access_log.end_request()
    assert committed(app, "patient.view") == 1
    assert committed(app, "stray.write") == 0


def test_a_denial_is_committed_at_once_even_in_a_request(app, personas):
    from cm_tracker.extensions import db
    from cm_tracker.services.core import audit
    from cm_tracker.services.usecases import access_log

    with app.test_request_context("/"):
        access_log.begin_request()
        access_log.log_now("patient.view", outcome=audit.DENIED, patient_id=personas.patient)
        db.session.rollback()  # the refusal's error handler
        assert committed(app, "patient.view") == 1
        access_log.end_request()


def test_outside_a_request_log_now_commits_at_once(app, personas):
    from cm_tracker.services.usecases import access_log

    with app.app_context():
        access_log.log_now("report.view", object_type="report", object_id="outcomes")
        assert committed(app, "report.view") == 1


# Every view of a patient's record leaves one row (docs/security.md "Audit"): the pages that load a record to change
# it, the pages that list patients, the reports, and the refused or replayed redemptions.

def rows_of(app: Flask, client, path: str, *, status: int = 200) -> list:
    """The audit rows the request to `path` wrote."""
    from cm_tracker.extensions import db
    from cm_tracker.models import AuditEvent

    with app.app_context():
        last = db.session.scalar(select(func.max(AuditEvent.id))) or 0
    response = client.get(path)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.id > last).order_by(AuditEvent.id)))


RECORD_PAGES = [
    "/staff/patients/{patient}/specimens/{specimen}/correct",
    "/staff/patients/{patient}/activities",
    "/staff/patients/{patient}/attendance/{attendance}/correct",
    "/staff/patients/{patient}/edit",
    "/staff/patients/{patient}/enrollment/end",
    "/staff/patients/{patient}/excuses/new",
    "/staff/patients/{patient}/specimens/new",
    "/staff/patients/{patient}/visits/{visit}/record",
]


@pytest.mark.parametrize("path", RECORD_PAGES)
def test_a_page_that_loads_a_record_to_change_it_audits_the_view(app, client, matrix, path):
    sign_in(client, "cora")
    rows = rows_of(app, client, path.format(**matrix))
    assert [(r.action, r.username, r.patient_id, r.outcome.value) for r in rows] == [
        ("patient.view", "cora", matrix["patient"], "success")]


LIST_PAGES = [  # (who, path, action, whose patients: "mine" is Pat, "all" Pat and Olive, "other" Olive)
    ("cora", "/staff/", "caseload.view", "mine"),
    ("ada", "/staff/", "caseload.view", "all"),
    ("cora", "/staff/rollcall", "rollcall.view", "mine"),
    ("cora", "/staff/close-day?day=2026-11-19", "close_day.view", "mine"),
    ("max", "/catalog/adjustments", "adjustments.view", "mine"),
    ("ada", "/admin/", "accounts.view", "mine"),
    ("ada", "/admin/users/new", "accounts.new_view", "other"),  # the patients without an account yet
    ("max", "/reports/outcomes?program_id={program}", "report.view", "all"),
    ("max", "/reports/outcomes/patients.csv?program_id={program}", "report.export", "all"),
    ("max", "/reports/ledger.csv", "report.export", "mine"),
]


@pytest.mark.parametrize(("who", "path", "action", "whose"), LIST_PAGES)
def test_a_page_that_lists_patients_leaves_one_row_naming_each(app, client, matrix, personas, who, path, action,
                                                                whose):
    sign_in(client, who)
    rows = rows_of(app, client, path.format(**matrix))
    expected = sorted(([personas.patient] if whose != "other" else []) + (
        [personas.other_patient] if whose in ("all", "other") else []))
    assert [(r.action, r.username, r.listed_patient_ids) for r in rows] == [(action, who, expected)]


def test_an_api_patient_search_names_the_patients_it_found(app, client, personas):
    from cm_tracker.extensions import db
    from cm_tracker.models import AuditEvent

    headers = api_token(client, "ada")
    assert client.get("/api/v1/patients?q=mrn", headers=headers).status_code == 200
    with app.app_context():
        row = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "patient.search"))
        assert (row.username, row.listed_patient_ids) == ("ada", sorted([personas.patient, personas.other_patient]))


def test_a_list_is_audited_by_one_insert_however_many_patients_it_shows(app, client, matrix, personas):
    from cm_tracker.extensions import db
    from cm_tracker.models import Enrollment, Patient

    sign_in(client, "ada")

    def inserts() -> list[str]:
        """The audit rows the page wrote (one INSERT each; on PostgreSQL an INSERT that found its connection's
        remembered chain head moved wrote nothing and was sent again, services/core/chain.py)."""
        from sqlalchemy import func, select

        from cm_tracker.models import AuditEvent

        with app.app_context():
            before = db.session.scalar(select(func.max(AuditEvent.id))) or 0
            db.session.remove()
        with statements(app) as seen:
            assert client.get("/staff/").status_code == 200
        assert len([s for s in seen if s.lstrip().upper().startswith("INSERT INTO AUDIT_EVENTS")]) <= 2
        with app.app_context():
            written = db.session.scalars(select(AuditEvent.action).where(AuditEvent.id > before)).all()
            db.session.remove()
        return list(written)

    assert len(inserts()) == 1
    with app.app_context():
        for n in range(5):
            extra = Patient(display_name=f"Extra {n}", record_number=f"MRN-X{n}", counselor_id=personas.counselor)
            db.session.add(extra)
            db.session.flush()
            db.session.add(Enrollment(patient_id=extra.id, program_id=personas.program, start_on=NOW.date()))
        db.session.commit()
    assert len(inserts()) == 1
    assert len(rows_of(app, client, "/staff/")[0].listed_patient_ids) == 7


@pytest.mark.parametrize("term", ["MRN-002", "{other_patient}"])
def test_the_audit_search_for_a_patient_finds_the_report_view_that_showed_them(app, client, personas, term):
    sign_in(client, "max")
    client.get(f"/reports/outcomes?program_id={personas.program}")
    client.post("/sign-out")
    sign_in(client, "ada")
    html = client.get("/admin/audit?action=report&patient=" + term.format(other_patient=personas.other_patient))
    assert html.get_data(as_text=True).count('<td class="mono">report.view</td>') == 1


def test_a_listed_id_matches_exactly_never_as_part_of_another(app):
    """A row listing patients 12 and 31 is about 12 and 31, not about 1, 2 or 3."""
    from cm_tracker.extensions import db
    from cm_tracker.models import AuditEvent
    from cm_tracker.services.core import audit

    with app.app_context():
        row = audit.record("caseload.view", patient_ids=[31, 12, 12])
        db.session.commit()
        assert row.patient_ids == ",12,31," and row.listed_patient_ids == [12, 31]
        found = {pid: db.session.scalars(select(AuditEvent.id).where(AuditEvent.names_any([pid]))).all()
                 for pid in (1, 2, 3, 12, 31)}
    assert found == {1: [], 2: [], 3: [], 12: [row.id], 31: [row.id]}


def _give_points(app: Flask, patient_id: int, points: int) -> None:
    from cm_tracker.extensions import db
    from cm_tracker.models import Enrollment, EntryKind, LedgerEntry

    with app.app_context():
        enrollment = db.session.scalar(select(Enrollment.id).where(Enrollment.patient_id == patient_id))
        db.session.add(LedgerEntry(patient_id=patient_id, enrollment_id=enrollment, kind=EntryKind.MANUAL,
                                   points=points, reason="Manual adjustment: test"))
        db.session.commit()


def _stocked_voucher(app: Flask) -> int:
    from cm_tracker.extensions import db
    from cm_tracker.models import Reward, RewardKind

    with app.app_context():
        reward = Reward(kind=RewardKind.VOUCHER, name="Cinema pass", cost_points=5, value_cents=125, is_stocked=True)
        db.session.add(reward)
        db.session.commit()
        return reward.id


@pytest.mark.parametrize(("points", "stocked", "code"), [(0, False, "insufficient_balance"),
                                                          (100, True, "out_of_stock")])
def test_a_refused_redemption_leaves_a_failure_row(app, client, matrix, points, stocked, code):
    _give_points(app, matrix["patient"], points)
    reward = _stocked_voucher(app) if stocked else matrix["reward"]
    headers = api_token(client, "cora")
    response = client.post(f"/api/v1/patients/{matrix['patient']}/redemptions", headers=headers,
                           json={"reward_id": reward, "quantity": 1})
    assert response.status_code == 409 and response.get_json()["error"]["code"] == code
    assert committed(app, "redemption.create") == 1
    from cm_tracker.extensions import db
    from cm_tracker.models import AuditEvent

    with app.app_context():
        row = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "redemption.create"))
        assert (row.username, row.patient_id, row.outcome.value, row.detail) == (
            "cora", matrix["patient"], "failure", {"reward_id": reward, "quantity": 1, "code": code})


def test_an_idempotent_replay_leaves_a_row_naming_the_redemption(app, client, matrix):
    _give_points(app, matrix["patient"], 50)
    headers = {**api_token(client, "cora"), "Idempotency-Key": "replay-1"}
    path, body = f"/api/v1/patients/{matrix['patient']}/redemptions", {"reward_id": matrix["reward"], "quantity": 1}
    first = client.post(path, headers=headers, json=body)
    again = client.post(path, headers=headers, json=body)
    assert first.status_code == again.status_code == 201 and first.get_json() == again.get_json()
    from cm_tracker.extensions import db
    from cm_tracker.models import AuditEvent

    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).where(AuditEvent.action.startswith("redemption."))
                                  .order_by(AuditEvent.id)).all()  # in the order written, not the table's
        assert [(r.action, r.username, r.patient_id, r.object_id, r.outcome.value) for r in rows] == [
            ("redemption.create", "cora", matrix["patient"], str(first.get_json()["id"]), "success"),
            ("redemption.replay", "cora", matrix["patient"], str(first.get_json()["id"]), "success")]
