"""Closing a clinic day in the browser: the same service as the nightly `visits close-day` job."""

from __future__ import annotations

from datetime import timedelta

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from cm_tracker.form_errors import show_errors
from cm_tracker.permissions import can_see_every_patient
from cm_tracker.services.core.clinic import clinic_today
from cm_tracker.services.core.errors import ServiceError
from cm_tracker.services.usecases import listings, visits
from cm_tracker.staff.blueprint import bp
from cm_tracker.staff.forms import CloseDayForm


@bp.route("/close-day", methods=["GET", "POST"])
def close_day() -> Response | str:
    # A counselor closes their own caseload's day; an admin closes the whole clinic's.
    counselor = None if can_see_every_patient(current_user) else current_user
    form = CloseDayForm(day=clinic_today() - timedelta(days=1))
    if request.method == "GET" and request.args.get("day"):
        form = CloseDayForm(formdata=request.args, meta={"csrf": False})
    if request.method == "POST" and form.validate_on_submit():
        try:
            done = visits.close_day(form.day.data, actor=current_user, counselor=counselor)
        except ServiceError as exc:
            show_errors(form, exc)
        else:
            flash(done.summary.replace("close-day", "Closed", 1) + ".", "error" if done.errors else "success")
            return redirect(url_for("staff.close_day", day=form.day.data.isoformat()))
    day = form.day.data if form.day.data and form.day.data < clinic_today() else None
    if form.day.data and day is None:
        form.day.errors = ["Choose a day before today: only a finished day can be closed."]
    open_visits = listings.open_visits(current_user, day, counselor)
    return render_template("staff/close_day.html", form=form, day=day, open_visits=open_visits,
                           whole_clinic=counselor is None)
