"""Manager pages: the programme overview, outcomes, fidelity and budget, their CSV exports, and the view of every
identified export (admins, managers)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, abort, render_template, request, stream_with_context
from flask_login import current_user

from cm_tracker.form_errors import show_errors
from cm_tracker.permissions import OVERSIGHT_ROLES
from cm_tracker.reports import charts
from cm_tracker.reports.exports_form import ExportsFilterForm
from cm_tracker.reports.forms import ReportFilterForm
from cm_tracker.security import guard_blueprint
from cm_tracker.services.core.clinic import clinic_today
from cm_tracker.services.core.errors import NotFound, ValidationFailed
from cm_tracker.services.core.part2 import SHORT_NOTICE
from cm_tracker.services.queries import overview
from cm_tracker.services.usecases import identified_exports as exports_log
from cm_tracker.services.usecases import reports as pages
from cm_tracker.services.usecases.reports import Export
from cm_tracker.validation import row_id

bp = Blueprint("reports", __name__)
guard_blueprint(bp, OVERSIGHT_ROLES)
PAGE_SIZE = 50
CSV_FIELDS = {"from": "date_from"}  # the service names the period's start as the API does; the URL says date_from


@bp.context_processor
def _part2_notice() -> dict[str, str]:
    """The short Part 2 statement the pages that name patients print at their foot (templates/reports/_macros.html)."""
    return {"part2_short_notice": SHORT_NOTICE}


@bp.route("/")
def index() -> str:
    return render_template("reports/index.html", figures=overview.programme_figures(),
                           cap_words=overview.CAP_WINDOW_WORDS)


def _report_page(template: str, view: Callable[..., Any], **extra: Any) -> str | tuple[str, int]:
    """Parse the filters, build one report (the service audits the view), and render it; bad filters re-render
    the form with the message beside the field."""
    form = ReportFilterForm(request.args)
    report, status = None, 200
    if form.program_id.choices and form.validate():
        try:
            report = view(form.filters(), user=current_user, today=clinic_today())
        except ValidationFailed as exc:
            show_errors(form, exc, {"from": "date_from"}, unnamed="date_from")
            status = 422
        except NotFound:
            abort(404)
    elif form.program_id.choices:
        status = 422
    return render_template(template, form=form, report=report, query=form.query(), **extra), status


@bp.route("/outcomes")
def outcomes() -> str | tuple[str, int]:
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    return _report_page("reports/outcomes.html", pages.view_outcomes, page=page, page_size=PAGE_SIZE,
                        charts=charts)


@bp.route("/fidelity")
def fidelity() -> str | tuple[str, int]:
    return _report_page("reports/fidelity.html", pages.view_fidelity)


@bp.route("/budget")
def budget() -> str | tuple[str, int]:
    return _report_page("reports/budget.html", pages.view_budget, charts=charts)


def _csv(export: Export) -> Response:
    """Stream the rows as they are read (stream_with_context keeps the database session for the generator)."""
    response = Response(stream_with_context(export.lines()), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _csv_refused(fields: dict[str, str]) -> Response:
    """A CSV request with bad filters: 422 with a plain-text body naming each field (docs/reports.md), which a
    browser shows and a script reads, rather than a 404 or an HTML page saved under the file's name."""
    lines = ["The CSV could not be made:"] + [f"{name}: {message}" for name, message in fields.items()]
    response = Response("\n".join(lines) + "\n", status=422, mimetype="text/plain")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<any(outcomes, fidelity, budget):report>/<table>.csv")
def table_csv(report: str, table: str) -> Response:
    form = ReportFilterForm(request.args)
    if not form.validate():
        return _csv_refused({name: "; ".join(errors) for name, errors in form.errors.items()})
    try:
        return _csv(pages.export_table(report, table, form.filters(), user=current_user, today=clinic_today()))
    except ValidationFailed as exc:
        return _csv_refused({CSV_FIELDS.get(name, name): message for name, message in exc.fields.items()})
    except NotFound:
        abort(404)


@bp.route("/ledger.csv")
def ledger_csv() -> Response:
    raw = request.args.get("program_id", "")
    program_id = request.args.get("program_id", type=row_id)
    if raw and program_id is None:
        abort(404)  # a programme id no row can have: no such programme, as for an unknown one
    try:
        return _csv(pages.export_ledger(program_id, user=current_user, today=clinic_today()))
    except NotFound:
        abort(404)


@bp.route("/funders.csv")
def funders_csv() -> Response:
    return _csv(pages.export_funders(user=current_user, today=clinic_today()))


def _page() -> int:
    return request.args.get("page", 1, type=int) or 1


@bp.route("/exports")
def identified_exports() -> str | tuple[str, int]:
    """Every identified export, newest first, filtered by day, user and patient (the read is audited)."""
    form = ExportsFilterForm(request.args)
    if not form.validate():
        return render_template("reports/identified_exports.html", form=form, result=None, query={}), 422
    result = exports_log.list_exports(form.criteria(), page=_page(), user=current_user)
    return render_template("reports/identified_exports.html", form=form, result=result, query=form.query())


@bp.route("/exports/<int:event_id>")
def identified_export(event_id: int) -> str:
    try:
        found = exports_log.view_export(event_id, page=_page(), user=current_user)
    except NotFound:
        abort(404)
    return render_template("reports/identified_export.html", found=found)
