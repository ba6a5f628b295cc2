"""Roll call (many marks, each on its own) and goal activities (verification posts the activity's award)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from desk.conftest import audit_actions, enrol, moment, patient, user

from helpers import api_token, sign_in


def _second_patient(app, desk, personas):
    return enrol(app, desk.program, personas.counselor, name="Eli Early", record="MRN-D2", start=desk.start)[0]


def test_roll_call_marks_many_patients_and_reports_each(client, app, desk, personas):
    other = _second_patient(app, desk, personas)
    sign_in(client, "cora")
    session = f"{desk.program}:groups"
    page = client.get(f"/staff/rollcall?session={session}").get_data(as_text=True)
    assert "Dana Desk" in page and "Eli Early" in page and "Pat Patient" not in page
    html = client.post("/staff/rollcall", data={
        "session": session, "held_on": desk.today.isoformat(), "held_at": "00:05", "action": "record",
        f"mark_{desk.patient}": "attended", f"mark_{other}": "excused"}).get_data(as_text=True)
    assert html.count("alert-ok") == 2 and "Attended for groups: 5 points" in html
    with app.app_context():
        from cm_tracker.extensions import db
        from cm_tracker.models import AttendanceRecord

        marks = {r.patient_id: str(r.status) for r in db.session.scalars(select(AttendanceRecord))}
        assert marks == {desk.patient: "attended", other: "excused"}
        assert "attendance.create" in audit_actions(desk.patient)


def test_one_refused_mark_does_not_lose_the_others(client, app, desk, personas):
    from cm_tracker.models import AttendanceStatus
    from cm_tracker.services.usecases.attendance import record_attendance

    other = _second_patient(app, desk, personas)
    with app.app_context():
        record_attendance(patient(desk.patient), occurred_at=moment(desk.today), target_key="groups",
                          status=AttendanceStatus.ATTENDED, actor=user(personas.counselor))
    sign_in(client, "cora")
    html = client.post("/staff/rollcall", data={
        "session": f"{desk.program}:groups", "held_on": desk.today.isoformat(), "held_at": "00:05",
        "action": "record", f"mark_{desk.patient}": "unexcused", f"mark_{other}": "attended"}).get_data(as_text=True)
    assert "already marked for the patient; correct it instead" in html
    assert html.count("alert-ok") == 1 and html.count("alert-missed") == 1
    with app.app_context():
        from cm_tracker.extensions import db
        from cm_tracker.models import AttendanceRecord

        assert db.session.scalar(select(AttendanceRecord.status).where(AttendanceRecord.patient_id == other)) == \
            "attended"


def test_verifying_an_activity_on_the_page_posts_its_award(client, app, desk):
    sign_in(client, "cora")
    base = f"/staff/patients/{desk.patient}/activities"
    client.post(base, data={"target": "goals", "week_of": desk.today.isoformat(), "description": "Job interview",
                            "verification": "Letter from the employer"})
    with app.app_context():
        from cm_tracker.extensions import db
        from cm_tracker.models import GoalActivity

        activity = db.session.scalar(select(GoalActivity))
        assert activity.week_of == desk.today - timedelta(days=desk.today.weekday())
        activity_id = activity.id
    html = client.post(f"{base}/{activity_id}/verify", data={"version": "1", "note": "Letter seen"},
                       follow_redirects=True).get_data(as_text=True)
    assert "Verified." in html and "20 points" in html
    with app.app_context():
        from cm_tracker.services.core.balances import balance_of

        assert balance_of(desk.patient).points == 20
        assert {"activity.create", "activity.verified"} <= set(audit_actions(desk.patient))


def test_the_api_runs_an_activity_from_contract_to_verification(client, app, desk):
    headers = api_token(client, "cora")
    created = client.post(f"/api/v1/patients/{desk.patient}/activities", headers=headers, json={
        "target": "goals", "description": "Attend a job fair", "verification": "Stamped card"})
    assert created.status_code == 201 and created.get_json()["status"] == "proposed"
    activity = created.get_json()["id"]
    evidence = client.post(f"/api/v1/activities/{activity}/evidence", headers=headers,
                           json={"version": 1, "evidence_note": "Card stamped"})
    assert evidence.get_json()["status"] == "submitted"
    verified = client.post(f"/api/v1/activities/{activity}/verify", headers=headers, json={"version": 2})
    body = verified.get_json()
    assert verified.status_code == 200 and body["status"] == "verified"
    assert [a["points"] for a in body["awards"]] == [20]
    again = client.post(f"/api/v1/activities/{activity}/reject", headers=headers, json={"version": 2, "reason": "x"})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "stale_version"
    listed = client.get(f"/api/v1/patients/{desk.patient}/activities", headers=headers).get_json()
    assert [a["status"] for a in listed["activities"]] == ["verified"]


def test_a_rejected_activity_earns_nothing(client, app, desk):
    headers = api_token(client, "cora")
    activity = client.post(f"/api/v1/patients/{desk.patient}/activities", headers=headers, json={
        "target": "goals", "description": "Volunteer shift", "verification": "Supervisor call"}).get_json()["id"]
    rejected = client.post(f"/api/v1/activities/{activity}/reject", headers=headers,
                           json={"version": 1, "reason": "Supervisor could not confirm"})
    assert rejected.get_json()["status"] == "rejected"
    assert client.get(f"/api/v1/patients/{desk.patient}/balance", headers=headers).get_json()["points"] == 0


def test_an_activity_for_a_target_the_programme_lacks_is_refused(client, desk):
    response = client.post(f"/api/v1/patients/{desk.patient}/activities", headers=api_token(client, "cora"),
                           json={"target": "stimulants", "description": "x", "verification": "y"})
    assert response.status_code == 422 and "target" in response.get_json()["error"]["fields"]


def test_another_counselors_activity_is_404(client, desk):
    headers = api_token(client, "cora")
    activity = client.post(f"/api/v1/patients/{desk.patient}/activities", headers=headers, json={
        "target": "goals", "description": "Class", "verification": "Certificate"}).get_json()["id"]
    response = client.post(f"/api/v1/activities/{activity}/verify", headers=api_token(client, "otto"),
                           json={"version": 1})
    assert response.status_code == 404


def test_the_roll_call_shows_who_is_already_marked_that_day_and_by_whom(client, app, desk, personas):
    from cm_tracker.models import AttendanceStatus
    from cm_tracker.services.usecases.attendance import record_attendance

    other = _second_patient(app, desk, personas)
    with app.app_context():
        record_attendance(patient(desk.patient), occurred_at=moment(desk.today, 0, 2), target_key="groups",
                          status=AttendanceStatus.EXCUSED, actor=user(personas.counselor))
    sign_in(client, "cora")
    page = client.get(f"/staff/rollcall?session={desk.program}:groups").get_data(as_text=True)
    assert f'name="mark_{desk.patient}"' not in page and f'name="mark_{other}"' in page
    assert "Excused</span>" in page and "marked at 00:02 by Cora Counselor" in page
    assert f"/staff/patients/{desk.patient}/attendance/" in page


def test_a_patient_marked_earlier_that_day_is_refused_by_name_and_the_others_recorded(app, desk, personas):
    from cm_tracker.models import AttendanceStatus
    from cm_tracker.services.queries.rollcall import sessions_for
    from cm_tracker.services.usecases.attendance import record_attendance
    from cm_tracker.services.usecases.rollcall import mark_all

    other = _second_patient(app, desk, personas)
    with app.app_context():
        cora = user(personas.counselor)
        record_attendance(patient(desk.patient), occurred_at=moment(desk.today, 0, 1), target_key="groups",
                          status=AttendanceStatus.ATTENDED, actor=cora)
        [session] = sessions_for(cora)
        done = mark_all(cora, session, moment(desk.today, 0, 5), {desk.patient: "attended", other: "attended"})
        assert [(m.patient.id, m.ok, m.message) for m in done] == [
            (desk.patient, False, "Already marked attended at 00:01 by Cora Counselor that day; correct that mark "
                                  "instead."),
            (other, True, "Attended for groups: 5 points")]


def test_day_marks_are_the_sessions_own_on_the_clinics_day(app, desk, personas):
    from cm_tracker.models import AttendanceStatus
    from cm_tracker.services.queries.rollcall import marks_on, sessions_for
    from cm_tracker.services.usecases.attendance import record_attendance

    with app.app_context():
        cora = user(personas.counselor)
        record_attendance(patient(desk.patient), occurred_at=moment(desk.today - timedelta(days=1), 23, 50),
                          target_key="groups", status=AttendanceStatus.UNEXCUSED, actor=cora)
        [session] = sessions_for(cora)
        assert marks_on(session, desk.today, [desk.patient]) == {}
        [mark] = marks_on(session, desk.today - timedelta(days=1), [desk.patient]).values()
        assert (mark.patient_id, mark.status, mark.recorded_by) == (desk.patient, "unexcused", "Cora Counselor")
