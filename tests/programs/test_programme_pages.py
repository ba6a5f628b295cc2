"""The programme pages: list, create from a preset, edit with a version check, and the schedule editor with its
preview of the most a patient can earn against the cap (issue 4)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from helpers import A_MONDAY, sign_in

CALIFORNIA_FORM = {
    "name": "Stimulant incentives 2027", "description": "Gift cards for stimulant-negative tests.",
    "source": "California DHCS Recovery Incentives Program", "caveat": "California-like; table not seen.",
    "funding_source": "Medi-Cal", "budget": "25,000.00", "point_value": "0.25", "weeks": "24",
    "visit_days": ["mon", "thu"], "visit_plan": "1-12: mon thu\n13-24: mon", "cap": "599.00",
    "cap_window": "episode", "max_award": "", "dilute_policy": "failure",
}


def _program(app, program_id):
    from cm_tracker.extensions import db
    from cm_tracker.models import Program

    with app.app_context():
        program = db.session.get(Program, program_id)
        db.session.expunge(program)
        return program


def _created_id(response):
    return int(re.search(r"/programmes/(\d+)$", response.headers["Location"]).group(1))


def _california(app, client):
    response = client.post("/programmes/new/preset/california_rip", data=CALIFORNIA_FORM)
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    return _created_id(response)


def test_the_list_shows_each_programme_with_its_schedule_cap_and_enrolments(client, personas):
    sign_in(client, "max")
    html = client.get("/programmes/").get_data(as_text=True)
    assert "Stimulant vouchers" in html
    assert "10 points, +5 per success in a row, +40 bonus every 3 in a row" in html
    assert "$997.50" in html
    assert re.search(r'data-label="Active enrolments">\s*2\s*<', html)


@pytest.mark.time_machine(A_MONDAY)  # California-like's $756 is the maximum of a Monday start
def test_a_preset_shows_its_source_caveat_and_maximum_before_anything_is_created(client, personas):
    sign_in(client, "ada")
    html = client.get("/programmes/new/preset/california_rip").get_data(as_text=True)
    assert "Freese TE et al." in html
    assert "not the DHCS schedule itself" in html
    assert "Over the cap by $157.00" in html


def test_creating_from_a_preset_keeps_its_source_caveat_schedule_and_money_in_cents(app, client, personas):
    sign_in(client, "max")
    program = _program(app, _california(app, client))
    assert (program.source, program.caveat, program.preset) == (
        "California DHCS Recovery Incentives Program", "California-like; table not seen.", "california_rip")
    assert (program.cap_cents, program.budget_cents, program.point_value_cents) == (59900, 2500000, 25)
    assert program.visit_plan == [{"from_week": 1, "to_week": 12, "per_week": 2, "days": ["mon", "thu"]},
                                  {"from_week": 13, "to_week": 24, "per_week": 1, "days": ["mon"]}]
    html = client.get(f"/programmes/{program.id}").get_data(as_text=True)
    assert "California DHCS Recovery Incentives Program" in html and "table not seen" in html


def test_money_that_is_not_dollars_and_cents_is_refused_beside_its_field(client, personas):
    sign_in(client, "max")
    html = client.post("/programmes/new/preset/california_rip",
                       data={**CALIFORNIA_FORM, "cap": "5.999"}).get_data(as_text=True)
    assert re.search(r'id="cap-error">.*Give dollars and cents, such as 599.00.', html)
    assert 'value="5.999"' in html


@pytest.mark.parametrize("cap", ["1,2,3", "\u0661\u0662\u0660"])  # commas out of place; Arabic-Indic digits
def test_money_with_commas_out_of_place_or_other_digits_is_refused(client, personas, cap):
    sign_in(client, "max")
    html = client.post("/programmes/new/preset/california_rip",
                       data={**CALIFORNIA_FORM, "cap": cap}).get_data(as_text=True)
    assert re.search(r'id="cap-error">.*Give dollars and cents, such as 599.00.', html)


def test_the_form_writes_an_amount_as_the_text_it_reads_back(app):
    from cm_tracker.programs.forms import form_values

    values = form_values({"budget_cents": -250, "point_value_cents": 25, "cap_cents": 59900})
    assert (values["budget"], values["point_value"], values["cap"], values["max_award"]) == (
        "-2.50", "0.25", "599.00", "")


def test_money_fields_say_their_format_in_a_hint_that_stays_while_typing(client, personas):
    sign_in(client, "max")
    html = client.get("/programmes/new/preset/california_rip").get_data(as_text=True)
    assert re.search(r'id="point_value-hint">Dollars and cents, such as 0.25.</p>', html)
    assert 'aria-describedby="cap-hint"' in html and "placeholder=" not in html


def test_a_stale_edit_gets_a_clear_conflict_and_changes_nothing(app, client, personas):
    from cm_tracker.extensions import db
    from cm_tracker.models import Program, User
    from cm_tracker.services.usecases.programs import update_program

    sign_in(client, "max")
    form = client.get(f"/programmes/{personas.program}/edit").get_data(as_text=True)
    assert 'name="version" type="hidden" value="1"' in form
    with app.app_context():
        update_program(db.session.get(Program, personas.program), {"version": 1, "funding_source": "Grant"},
                       actor=db.session.get(User, personas.admin))

    data = {"version": "1", "name": "Renamed", "point_value": "0.25", "weeks": "12", "visit_days": ["mon"],
            "cap": "997.50", "cap_window": "episode", "dilute_policy": "failure"}
    html = client.post(f"/programmes/{personas.program}/edit", data=data).get_data(as_text=True)
    assert "changed by someone else since you opened it" in html
    assert _program(app, personas.program).name == "Stimulant vouchers"


@pytest.mark.time_machine(A_MONDAY)  # California-like's $756 is the maximum of a Monday start
def test_the_schedule_preview_warns_when_the_maximum_passes_the_cap_and_saves_nothing(app, client, personas):
    sign_in(client, "max")
    program_id = _california(app, client)
    url = f"/programmes/{program_id}/targets/stimulants/schedule"
    html = client.get(url).get_data(as_text=True)
    assert "Over the cap by $157.00" in html

    data = {"kind": "escalating", "start": "40", "step": "4", "max": "72", "escalate_per": "week",
            "recovery_after": "0", "effective_on": "2099-01-01", "based_on_version": "1", "preview": "Preview"}
    html = client.post(url, data=data).get_data(as_text=True)
    assert "Preview, not saved" in html
    assert "Fits the cap" in html
    with app.app_context():
        from cm_tracker.extensions import db
        from cm_tracker.models import ScheduleVersion

        assert db.session.query(ScheduleVersion).count() == 2  # the persona programme's and the new one's first


def test_schedule_errors_from_the_engine_appear_beside_their_inputs(client, personas):
    sign_in(client, "max")
    data = {"kind": "escalating", "start": "0", "step": "5", "bonus_every": "3", "escalate_per": "sample",
            "effective_on": "2099-01-01", "based_on_version": "1", "preview": "Preview"}
    html = client.post(f"/programmes/{personas.program}/targets/stimulants/schedule", data=data).get_data(as_text=True)
    assert re.search(r'id="start-error">.*Must be 1 or more', html)
    # The message names the other input as its label reads, never the internal field name.
    assert re.search(r'id="bonus-error">.*Required when “Bonus on every … success in a row” is set', html)
    assert "bonus_every" not in html.split('id="bonus-error">')[1].split("</p>")[0]


def test_a_bowl_row_error_appears_in_its_cell(app, client, personas):
    sign_in(client, "max")
    response = client.post("/programmes/new/preset/petry_prize_draws",
                           data={**CALIFORNIA_FORM, "name": "Fishbowl", "visit_plan": ""})
    url = f"/programmes/{_created_id(response)}/targets/stimulants/schedule"
    data = {"kind": "prize_draws", "start_draws": "1", "step_draws": "1", "draws_escalate_per": "week",
            "bowl-0-tier": "good_job", "bowl-0-slips": "250", "bowl-0-value": "0.00",
            "bowl-1-tier": "small", "bowl-1-slips": "-3", "bowl-1-value": "1.00",
            "effective_on": "2099-01-01", "based_on_version": "1", "preview": "Preview"}
    html = client.post(url, data=data).get_data(as_text=True)
    assert re.search(r'id="bowl-1-slips-error">', html)


def test_saving_a_schedule_adds_a_version_from_the_chosen_date_to_the_history(app, client, personas):
    from cm_tracker.services.core.clinic import clinic_today

    sign_in(client, "max")
    with app.app_context():
        tomorrow = clinic_today() + timedelta(days=1)
    url = f"/programmes/{personas.program}/targets/stimulants/schedule"
    assert f'value="{tomorrow.isoformat()}"' in client.get(url).get_data(as_text=True)
    data = {"kind": "escalating", "start": "20", "step": "10", "escalate_per": "sample", "recovery_after": "0",
            "effective_on": tomorrow.isoformat(), "based_on_version": "1", "save": "Save new version"}
    response = client.post(url, data=data, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Version 2 is saved" in html
    assert "20 points, +10 per success in a row" in html
    assert "Scheduled" in html


def test_a_counselor_cannot_reach_programme_administration(client, personas):
    sign_in(client, "cora")
    assert client.get("/programmes/").status_code == 403


def test_a_programme_from_scratch_is_created_with_its_first_target_and_schedule(app, client, personas):
    sign_in(client, "ada")
    data = {"name": "Group attendance", "point_value": "0.25", "weeks": "8", "visit_days": ["wed"], "cap": "75.00",
            "cap_window": "calendar_year", "max_award": "15.00", "dilute_policy": "failure",
            "target_label": "group sessions", "target_key": "group", "target_kind": "attendance",
            "kind": "fixed", "fixed_unit": "points", "fixed_amount": "20"}
    program = _program(app, _created_id(client.post("/programmes/new/scratch", data=data)))
    assert (program.cap_cents, program.max_award_cents, program.weeks) == (7500, 1500, 8)
    html = client.get(f"/programmes/{program.id}").get_data(as_text=True)
    assert "20 points on every success" in html


def test_a_scratch_programme_error_lands_beside_the_target_field(client, personas):
    sign_in(client, "ada")
    data = {"name": "Bad key", "point_value": "0.25", "weeks": "8", "visit_days": ["wed"], "cap": "75.00",
            "cap_window": "episode", "dilute_policy": "failure", "target_label": "group", "target_key": "Group!",
            "target_kind": "attendance", "kind": "fixed", "fixed_unit": "points", "fixed_amount": "20"}
    html = client.post("/programmes/new/scratch", data=data).get_data(as_text=True)
    assert re.search(r'id="target_key-error">.*lower-case letters', html)


@pytest.mark.parametrize("path", ["/programmes/999999", "/programmes/999999/edit",
                                  "/programmes/999999/targets/stimulants/schedule"])
def test_a_programme_that_does_not_exist_is_a_404_page(client, personas, path):
    sign_in(client, "max")
    response = client.get(path)
    assert response.status_code == 404
    assert "There is nothing here, or it is not yours to see." in response.get_data(as_text=True)
