"""Programme administration (admins and managers): create from a preset or from scratch, edit, and change a
target's schedule as a new version that applies from a chosen date, with the maximum a patient can earn."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from cm_tracker.engine.presets import PRESETS
from cm_tracker.form_errors import show_errors
from cm_tracker.models import Program
from cm_tracker.permissions import OVERSIGHT_ROLES
from cm_tracker.programs.forms import (
    PROGRAM_FIELDS,
    EditProgramForm,
    NewProgramForm,
    ProgramForm,
    ScheduleForm,
    form_values,
)
from cm_tracker.security import guard_blueprint
from cm_tracker.services.core.clinic import clinic_today
from cm_tracker.services.core.errors import Conflict, ValidationFailed
from cm_tracker.services.queries import overview
from cm_tracker.services.queries import program_schedules as program_schedules_reads
from cm_tracker.services.queries import programs as programs_reads
from cm_tracker.services.usecases import program_schedules, programs

bp = Blueprint("programs", __name__)
guard_blueprint(bp, OVERSIGHT_ROLES)


@bp.route("/")
def index() -> str:
    return render_template("programs/index.html", rows=overview.programme_rows(clinic_today()),
                           cap_words=overview.CAP_WINDOW_WORDS, visit_days=overview.visit_days_text)


@bp.route("/new")
def new() -> str:
    today = clinic_today()
    choices = [(p, program_schedules_reads.preset_maximum(p, today)) for p in PRESETS.values()]
    return render_template("programs/new.html", choices=choices)


@bp.route("/new/preset/<name>", methods=["GET", "POST"])
def create_from_preset(name: str) -> Response | str:
    preset = program_schedules_reads.get_preset(name)
    data = program_schedules_reads.preset_program_data(preset)
    form = ProgramForm(data=form_values(data))
    problems: list[str] = []
    if form.validate_on_submit():
        try:
            program = program_schedules.create_from_preset(name, form.program_data(), actor=current_user,
                                                           today=clinic_today())
        except (ValidationFailed, Conflict) as exc:
            problems = show_errors(form, exc, PROGRAM_FIELDS, unnamed="name")
        else:
            flash(f"{program.name} is created from the preset. Check each schedule before enrolling anyone.",
                  "success")
            return redirect(url_for("programs.show", program_id=program.id))
    maximum = program_schedules_reads.preset_maximum(preset, clinic_today())
    return render_template("programs/create_from_preset.html", form=form, preset=preset, data=data,
                           maximum=maximum, problems=problems, describe=program_schedules_reads.describe)


@bp.route("/new/scratch", methods=["GET", "POST"])
def create() -> Response | str:
    form = NewProgramForm(data={"point_value": "0.25", "weeks": 12, "visit_days": ["mon", "thu"],
                                "cap": "599.00", "start": 10, "step": 5, "recovery_after": 0})
    problems: list[str] = []
    if form.validate_on_submit():
        try:
            program = programs.create_program(form.program_data(), actor=current_user, today=clinic_today())
        except (ValidationFailed, Conflict) as exc:
            problems = show_errors(form, exc, PROGRAM_FIELDS, unnamed="name")
        else:
            flash(f"{program.name} is created.", "success")
            return redirect(url_for("programs.show", program_id=program.id))
    return render_template("programs/create.html", form=form, problems=problems)


@bp.route("/<int:program_id>")
def show(program_id: int) -> str:
    program = programs_reads.get_program(program_id)
    today = clinic_today()
    return render_template("programs/show.html", program=program,
                           history=program_schedules_reads.schedule_history(program, today),
                           maximum=program_schedules_reads.preview_maximum(program, today=today),
                           cap_words=overview.CAP_WINDOW_WORDS, visit_days=overview.visit_days_text)


@bp.route("/<int:program_id>/edit", methods=["GET", "POST"])
def edit(program_id: int) -> Response | str:
    program = programs_reads.get_program(program_id)
    form = EditProgramForm(data=form_values(programs_reads.program_to_dict(program)))
    problems: list[str] = []
    if form.validate_on_submit():
        try:
            programs.update_program(program, form.program_data(), actor=current_user)
        except (ValidationFailed, Conflict) as exc:
            problems = show_errors(form, exc, PROGRAM_FIELDS)
        else:
            flash(f"{program.name} is saved.", "success")
            return redirect(url_for("programs.show", program_id=program.id))
    return render_template("programs/edit.html", form=form, program=program, problems=problems,
                           is_enrolled=programs_reads.has_enrollments(program))


@bp.route("/<int:program_id>/targets/<key>/schedule", methods=["GET", "POST"])
def schedule(program_id: int, key: str) -> Response | str:
    program = programs_reads.get_program(program_id)
    page = program_schedules_reads.schedule_page(program, key, clinic_today())
    form = ScheduleForm(data={"effective_on": page.default_effective_on, "based_on_version": page.newest.version})
    preview, problems = None, []
    if not form.is_submitted():
        form.fill_schedule(page.newest.schedule)
    elif form.validate_on_submit():
        try:
            if form.preview.data:
                preview = program_schedules_reads.preview_schedule(program, key, form.schedule_data(),
                                                                   today=clinic_today())
            else:
                return _save_schedule(program, key, form)
        except (ValidationFailed, Conflict) as exc:
            problems = show_errors(form, exc)
    return render_template("programs/schedule.html", form=form, program=program, page=page, preview=preview,
                           problems=problems)


def _save_schedule(program: Program, key: str, form: ScheduleForm) -> Response:
    saved = program_schedules.add_schedule_version(program, key, form.version_data(), actor=current_user,
                                                   today=clinic_today())
    flash(f"Version {saved.version} is saved and applies from {saved.effective_on:%a %d %b %Y}.", "success")
    return redirect(url_for("programs.schedule", program_id=program.id, key=key))
