"""Roll call for a group session: one page, many patients, each mark recorded (and reported) on its own."""

from __future__ import annotations

from flask import render_template, request
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from cm_tracker.form_errors import show_errors
from cm_tracker.models import Patient
from cm_tracker.services.core.clinic import clinic_zone
from cm_tracker.services.core.errors import ServiceError
from cm_tracker.services.queries import rollcall as rollcall_reads
from cm_tracker.services.queries.rollcall import Session
from cm_tracker.services.usecases import listings, rollcall
from cm_tracker.services.usecases.rollcall import Marked
from cm_tracker.staff.blueprint import bp
from cm_tracker.staff.forms import ATTENDANCE_PAIRS, RollCallForm, clinic_moment
from cm_tracker.timeutil import utcnow


@bp.route("/rollcall", methods=["GET", "POST"])
def rollcall_page() -> str:
    sessions = rollcall_reads.sessions_for(current_user)
    now = utcnow().astimezone(clinic_zone())
    form = RollCallForm(held_on=now.date(), held_at=now.time().replace(second=0, microsecond=0),
                        session=request.args.get("session") or (sessions[0].key if sessions else ""))
    form.session.choices = [SelectChoice(s.key, f"{s.program}: {s.label}") for s in sessions]
    chosen = next((s for s in sessions if s.key == form.session.data), None)
    patients = listings.roll_call(current_user, chosen)
    results, problems = [], []
    if chosen and request.form.get("action") == "record" and form.validate_on_submit():
        results, problems = _record(form, chosen, patients)
    # Read after recording, so the marks just made show as marked; a date that does not parse shows today's.
    done = rollcall_reads.marks_on(chosen, form.held_on.data or now.date(), [p.id for p in patients]) if chosen else {}
    return render_template("staff/rollcall.html", form=form, sessions=sessions, chosen=chosen, patients=patients,
                           results=results, problems=problems, choices=ATTENDANCE_PAIRS, done=done,
                           marks={k[5:]: v for k, v in request.form.items() if k.startswith("mark_")})


def _record(form: RollCallForm, chosen: Session, patients: list[Patient]) -> tuple[list[Marked], list[str]]:
    """Each patient's mark from the form, recorded; or the page's problems when the session's time is refused."""
    marks = {p.id: request.form.get(f"mark_{p.id}", "") for p in patients}
    try:
        return rollcall.mark_all(current_user, chosen, clinic_moment(form.held_on.data, form.held_at.data)
                                 or utcnow(), marks), []
    except ServiceError as exc:
        return [], show_errors(form, exc, {"occurred_at": "held_at"})
