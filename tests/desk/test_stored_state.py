"""The stored state of each target (core.target_states): what the evaluation stores is what a live evaluation says,
it ends when the schedule's answer would change (a new version, a new calendar week), and the readers cost the same
statements whatever the length of the history."""

from __future__ import annotations

from datetime import timedelta

import pytest

from factories import START, at
from helpers import api_token, sign_in, statements
from worlds.clinic import record

RICHER = {"kind": "escalating", "start": 20, "step": 10}
WEEKLY = {"kind": "escalating", "start": 10, "step": 5, "escalate_per": "week"}


def _enrollment(clinic):
    from cm_tracker.extensions import db
    from cm_tracker.models import Enrollment

    return db.session.get(Enrollment, clinic.enrollment_id)


def _engine_preview(enrollment, on):
    """What the engine says from the whole history (the path every reader took before the state was stored)."""
    from cm_tracker.services.core.evaluation import snapshot

    return {str(key): preview for key, preview in snapshot(enrollment).preview(on).items()}


def _statement_next(clinic):
    from cm_tracker.extensions import db
    from cm_tracker.models import Patient
    from cm_tracker.services.queries.statements import statement_for

    return {n.target: (n.points, n.draws, n.explanation, n.reset_points, n.reset_draws, n.reset_explanation)
            for n in statement_for(db.session.get(Patient, clinic.patient_id)).next}


def _as_tuples(previews):
    return {key: (p.points, p.draws, p.explanation, p.reset_points, p.reset_draws, p.reset_explanation)
            for key, p in previews.items()}


@pytest.mark.time_machine(at(17, 20), tick=False)
def test_the_stored_state_is_what_a_live_evaluation_says_and_the_statement_fits_it_to_the_cap(make_clinic):
    from cm_tracker.services.core.target_states import live_states, states_for

    # 10 + 15 + (20 + 40) + 0 + 10 = 95 points of a $23.75 ... $25.00 cap at 25 cents: 5 points of room left.
    clinic = make_clinic(cap_cents=2500)
    record(clinic, [(0, "N"), (3, "N"), (7, "N"), (10, "P"), (14, "N")])
    enrollment, today = _enrollment(clinic), START + timedelta(days=17)

    stored = states_for([enrollment], today)[enrollment.id]
    assert stored == live_states([enrollment], today)[enrollment.id]
    assert (stored["stimulants"].run, stored["stimulants"].next.points) == (1, 15)  # before the limits
    assert _statement_next(clinic) == _as_tuples(_engine_preview(enrollment, today))
    assert _statement_next(clinic)["stimulants"][0] == 5
    assert _statement_next(clinic)["stimulants"][2].endswith("the program's limits leave room for 5 points only")


@pytest.mark.time_machine(at(17, 20), tick=False)
def test_a_weekly_schedule_s_state_holds_to_the_end_of_its_week(make_clinic, monkeypatch):
    from cm_tracker.extensions import db
    from cm_tracker.models import TargetState
    from cm_tracker.services.core import target_states

    clinic = make_clinic(WEEKLY)
    record(clinic, [(14, "N"), (16, "N")])  # Monday and Wednesday of the third week
    enrollment, today = _enrollment(clinic), START + timedelta(days=17)
    row = db.session.get(TargetState, (enrollment.id, "stimulants"))
    assert (row.computed_on, row.valid_until) == (today, START + timedelta(days=20))  # Thursday; that Sunday

    live = []
    real = target_states.live_states
    monkeypatch.setattr(target_states, "live_states", lambda found, on: live.append(len(found)) or real(found, on))
    sunday, monday = START + timedelta(days=20), START + timedelta(days=21)
    assert target_states.states_for([enrollment], sunday)[enrollment.id]["stimulants"].next.points == 10
    assert target_states.states_for([enrollment], monday)[enrollment.id]["stimulants"].next.points == 15
    assert live == [0, 1]  # Sunday from the row; Monday, a new week, evaluated
    on_monday = target_states.states_for([enrollment], monday)[enrollment.id]["stimulants"].next
    assert _as_tuples({"stimulants": on_monday}) == _as_tuples(_engine_preview(enrollment, monday))


@pytest.mark.time_machine(at(8, 20), tick=False)
def test_a_new_schedule_version_ends_the_stored_preview_the_day_before_it_takes_effect(make_clinic):
    from cm_tracker.extensions import db
    from cm_tracker.models import Program, TargetState, User
    from cm_tracker.services.core.target_states import states_for
    from cm_tracker.services.usecases.program_schedules import add_schedule_version

    clinic = make_clinic()
    record(clinic, [(0, "N"), (3, "N"), (7, "N")])
    enrollment = _enrollment(clinic)
    add_schedule_version(db.session.get(Program, clinic.program_id), "stimulants",
                         {"schedule": RICHER, "effective_on": (START + timedelta(days=9)).isoformat()},
                         actor=db.session.get(User, clinic.counselor_id), today=START + timedelta(days=8))

    assert db.session.get(TargetState, (enrollment.id, "stimulants")).valid_until == START + timedelta(days=8)
    before, after = START + timedelta(days=8), START + timedelta(days=9)
    assert states_for([enrollment], before)[enrollment.id]["stimulants"].next.points == 25  # version 1: 10 + 3 x 5
    assert states_for([enrollment], after)[enrollment.id]["stimulants"].next.points == 50  # 20 + 3 x 10
    assert _as_tuples({"stimulants": states_for([enrollment], after)[enrollment.id]["stimulants"].next}) \
        == _as_tuples(_engine_preview(enrollment, after))


def _recorded(app, desk, counselor_id: int, days: range) -> int:
    """Negatives through the recording service, up to three a day over the desk week; the last one's id."""
    from cm_tracker.services.usecases.specimens import record_specimen
    from desk.conftest import negative, patient, user

    with app.app_context():
        found = [record_specimen(patient(desk.patient), negative(desk.start + timedelta(days=n % 7), hour=1 + n // 7),
                                 actor=user(counselor_id)) for n in days]
        return found[-1].specimen.id


def test_the_balance_and_the_desk_result_cost_the_same_statements_for_a_short_or_a_long_history(
        client, app, desk, personas):
    """Statements per request do not grow with the history: 3 specimens or 21 (docs/architecture.md); a balance read
    costs at most four."""
    headers = api_token(client, "cora")
    # The token's first use stamps its last use (a write that is throttled afterwards), whatever the history.
    client.get(f"/api/v1/patients/{desk.patient}/balance", headers=headers)

    def counted(specimen_id: int) -> tuple[int, int]:
        with statements(app) as balance:
            assert client.get(f"/api/v1/patients/{desk.patient}/balance", headers=headers).status_code == 200
        sign_in(client, "cora")
        with statements(app) as result:
            page = client.get(f"/staff/patients/{desk.patient}/specimens/{specimen_id}")
            assert page.status_code == 200
        client.post("/sign-out")
        return len(balance), len(result)

    short = counted(_recorded(app, desk, personas.counselor, range(3)))
    long = counted(_recorded(app, desk, personas.counselor, range(3, 21)))
    assert short == long
    # The token with its user, the patient, the balance with its enrolment, cap use and stored state, and the audit
    # row, its chain link included (its lane's head moved by the table's trigger: services/core/chain.py).
    assert short[0] <= 4


def test_a_new_enrolment_has_its_state_stored_so_no_reader_evaluates_it(app, desk, monkeypatch):
    """Admission stores the first state (nothing in a row yet, the schedule's first award next)."""
    from cm_tracker.extensions import db
    from cm_tracker.models import Enrollment
    from cm_tracker.services.core import target_states

    monkeypatch.setattr(target_states, "live_states", lambda found, on: {} if not found else pytest.fail("live"))
    with app.app_context():
        enrollment = db.session.get(Enrollment, desk.enrollment)
        now = target_states.states_for([enrollment], desk.today, every_target=True)[enrollment.id]
    assert [(key, state.run, state.next.points) for key, state in now.items()] == [
        ("stimulants", 0, 10), ("groups", 0, 5), ("goals", 0, 20)]
