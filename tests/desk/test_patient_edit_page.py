"""The patient edit page: the name and caseload, and the visit days from a chosen date, with errors beside the
fields, typed values kept, stale forms explained and CSRF required."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from desk.conftest import make_program, patient, user

from helpers import PASSWORD, csrf_token_from, sign_in

DAYS = re.compile(r'<input (checked )?id="days-visit_days-\d" name="days-visit_days" type="checkbox" value="(\w+)"')


@pytest.fixture
def pid(app, personas) -> int:
    """A patient of Cora's caseload, tested on Mondays and Thursdays since a week ago, with group sessions."""
    from cm_tracker.services.core.clinic import clinic_today
    from cm_tracker.services.usecases import admission

    with app.app_context():
        program = make_program("Edit page")
        done = admission.enrol(display_name="Eve Edit", record_number="MRN-E1", program_id=program,
                               start_on=clinic_today() - timedelta(days=7), counselor_id=None,
                               visit_days=["mon", "thu"], portal_username=None, actor=user(personas.counselor))
        return done.patient.id


def today(app):
    from cm_tracker.services.core.clinic import clinic_today

    with app.app_context():
        return clinic_today()


def ticked(html: str) -> set[str]:
    return {value for checked, value in DAYS.findall(html) if checked}


def test_the_patient_page_links_to_the_edit_page(client, pid):
    sign_in(client, "cora")
    html = client.get(f"/staff/patients/{pid}").get_data(as_text=True)
    assert f'href="/staff/patients/{pid}/edit"' in html


def test_the_days_are_ticked_as_they_are_and_the_change_starts_today(app, client, pid):
    sign_in(client, "cora")
    html = client.get(f"/staff/patients/{pid}/edit").get_data(as_text=True)
    assert ticked(html) == {"mon", "thu"}
    assert re.search(f'name="days-from_on"[^>]*value="{today(app).isoformat()}"', html)


def test_a_counselor_is_not_offered_the_caseload(client, pid):
    sign_in(client, "cora")
    assert 'name="details-counselor_id"' not in client.get(f"/staff/patients/{pid}/edit").get_data(as_text=True)


def test_changing_the_days_tells_the_next_visits(app, client, pid):
    sign_in(client, "cora")
    start = today(app)
    html = client.post(f"/staff/patients/{pid}/edit", data={
        "form": "days", "days-version": "1", "days-visit_days": ["tue", "fri"],
        "days-from_on": start.isoformat()}, follow_redirects=True).get_data(as_text=True)
    first = next(start + timedelta(days=n) for n in range(7) if (start + timedelta(days=n)).weekday() in (1, 4))
    assert f"Visit days are now Tuesday, Friday, from {start:%a %d %b %Y}" in html
    assert f"Next visits: {first:%a %d %b %Y}" in html
    removed, noun = re.search(r"\((\d+) (visits?) removed, \d+ added\)", html).groups()
    assert noun == ("visit" if removed == "1" else "visits")


def test_a_refused_change_keeps_what_was_typed_beside_the_field(app, client, pid):
    sign_in(client, "cora")
    yesterday = (today(app) - timedelta(days=1)).isoformat()
    html = client.post(f"/staff/patients/{pid}/edit", data={
        "form": "days", "days-version": "1", "days-visit_days": ["tue", "fri"],
        "days-from_on": yesterday}).get_data(as_text=True)
    assert re.search(r'id="days-from_on-error">.*Choose today', html)
    assert ticked(html) == {"tue", "fri"} and f'value="{yesterday}"' in html


def test_no_day_ticked_is_shown_beside_the_days(client, pid, app):
    sign_in(client, "cora")
    html = client.post(f"/staff/patients/{pid}/edit", data={
        "form": "days", "days-version": "1", "days-from_on": today(app).isoformat()}).get_data(as_text=True)
    assert re.search(r'id="days-visit_days-error">.*Choose at least one visit day.', html)


def test_a_counselor_renames_their_patient(app, client, pid):
    sign_in(client, "cora")
    response = client.post(f"/staff/patients/{pid}/edit", data={
        "form": "details", "details-version": "1", "details-display_name": "Eve Edwards"})
    assert response.status_code == 302
    with app.app_context():
        assert (patient(pid).display_name, patient(pid).version) == ("Eve Edwards", 2)


def _renamed_at_another_desk(app, pid: int) -> None:
    from cm_tracker.services.usecases import patients

    with app.app_context():
        patients.update_patient(patient(pid), version=1, changes={"display_name": "Eve E."},
                                 actor=user(patient(pid).counselor_id))


def test_a_stale_form_says_so_and_keeps_the_typed_name(app, client, pid):
    _renamed_at_another_desk(app, pid)
    sign_in(client, "cora")
    html = client.post(f"/staff/patients/{pid}/edit", data={
        "form": "details", "details-version": "1", "details-display_name": "Eve Edwards"}).get_data(as_text=True)
    assert "changed since you loaded it (now version 2)" in html
    assert 'value="Eve Edwards"' in html and 'name="details-version" type="hidden" value="2"' in html


def test_a_stale_days_form_keeps_the_ticked_days(app, client, pid):
    _renamed_at_another_desk(app, pid)
    sign_in(client, "cora")
    html = client.post(f"/staff/patients/{pid}/edit", data={
        "form": "days", "days-version": "1", "days-visit_days": ["sat"],
        "days-from_on": today(app).isoformat()}).get_data(as_text=True)
    assert "changed since you loaded it" in html and ticked(html) == {"sat"}


def test_an_admin_moves_the_patient_to_another_caseload(app, client, pid, personas):
    sign_in(client, "ada")
    client.post(f"/staff/patients/{pid}/edit", data={
        "form": "details", "details-version": "1", "details-display_name": "Eve Edit",
        "details-counselor_id": str(personas.other_counselor)})
    with app.app_context():
        assert patient(pid).counselor_id == personas.other_counselor


def test_a_counselor_of_another_caseload_gets_404(client, pid):
    sign_in(client, "otto")
    assert client.get(f"/staff/patients/{pid}/edit").status_code == 404


def test_an_ended_enrollment_offers_no_days_to_change(app, client, pid):
    from cm_tracker.services.usecases.admission import end_enrollment

    with app.app_context():
        end_enrollment(patient(pid).enrollments[0], "completed", today(app), "Done",
                       actor=user(patient(pid).counselor_id))
    sign_in(client, "cora")
    html = client.get(f"/staff/patients/{pid}/edit").get_data(as_text=True)
    assert "has no active enrollment" in html and 'name="days-visit_days"' not in html


def test_the_days_form_needs_its_csrf_token(csrf_app, pid):
    client = csrf_app.test_client()
    token = csrf_token_from(client, "/sign-in")
    client.post("/sign-in", data={"username": "cora", "password": PASSWORD, "csrf_token": token})
    data = {"form": "days", "days-version": "1", "days-visit_days": ["tue"],
            "days-from_on": today(csrf_app).isoformat()}
    assert client.post(f"/staff/patients/{pid}/edit", data=data).status_code == 400
    data["days-csrf_token"] = csrf_token_from(client, f"/staff/patients/{pid}/edit")
    assert client.post(f"/staff/patients/{pid}/edit", data=data).status_code == 302
