"""The report use cases the pages and the API call: each checks its filters, builds one report, and audits the view
or export ("report.view", "report.export") in one row naming every patient it shows (the audit search finds the row
by any of them); exports return their rows lazily so the response can stream them.

Every CSV that names patients (their ids, names or record numbers: the per-patient tables and the full ledger) is an
identified export: its first row is the Part 2 notice (core.part2.CSV_NOTICE_ROW) and its audit row says so
(`"identified": true`), which is what the managers' view of identified exports lists (docs/reports.md). The table
builders below declare which of their tables are identified; the aggregate ones and the funders' de-identified
export carry no notice."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from cm_tracker.extensions import db
from cm_tracker.models import Program, User
from cm_tracker.money import plain_dollars
from cm_tracker.services.core.errors import NotFound
from cm_tracker.services.core.part2 import CSV_NOTICE_ROW
from cm_tracker.services.queries.reports import budget, exports, fidelity, outcomes
from cm_tracker.services.queries.reports.choices import programs
from cm_tracker.services.queries.reports.measures import API_FIELDS, as_api
from cm_tracker.services.queries.reports.sql import Scope
from cm_tracker.services.usecases.access_log import log_now


@dataclass(frozen=True)
class Filters:
    program_id: int | None
    counselor_id: int | None = None
    start: date | None = None
    end: date | None = None

    def detail(self) -> dict[str, Any]:
        return {"program_id": self.program_id, "counselor_id": self.counselor_id,
                "from": self.start.isoformat() if self.start else None,
                "to": self.end.isoformat() if self.end else None}


@dataclass(frozen=True)
class Export:
    filename: str
    header: Sequence[str]
    rows: Iterator[Sequence[Any]]
    identified: bool  # names patients: the Part 2 notice is its first row (no default: every export decides)

    def lines(self) -> Iterator[str]:
        return exports.csv_lines(self.header, self.rows, notice=CSV_NOTICE_ROW if self.identified else None)


@dataclass(frozen=True)
class Table:
    """One report table as CSV. An identified table names patients, its first column their id: the CSV carries the
    Part 2 notice and the export's audit row lists every patient in it."""

    header: Sequence[str]
    rows: Iterator[Sequence[Any]]
    identified: bool


def _named(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    return Table(header, iter(rows), identified=True)


def _aggregate(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    return Table(header, iter(rows), identified=False)


def _scope(filters: Filters, today: date) -> tuple[Program, Scope]:
    return outcomes.make_scope(filters.program_id, filters.counselor_id, filters.start, filters.end, today)


def _viewed(report: str, filters: Filters, user: User, shown: Iterable[int]) -> None:
    log_now("report.view", user=user, object_type="report", object_id=report, detail=filters.detail(),
            patient_ids=shown)


def view_outcomes(filters: Filters, *, user: User, today: date) -> outcomes.OutcomeReport:
    """The outcome report; its view names every patient of its table (the page steps through them, the API sends
    them all)."""
    program, scope = _scope(filters, today)
    report = outcomes.outcome_report(program, scope)
    _viewed("outcomes", filters, user, (p.patient_id for p in report.patients))
    return report


def view_fidelity(filters: Filters, *, user: User, today: date) -> fidelity.FidelityReport:
    program, scope = _scope(filters, today)
    report = fidelity.fidelity_report(program, scope, today)
    _viewed("fidelity", filters, user, [u.patient_id for u in report.unrecorded]
            + [n.patient_id for n in report.negative])
    return report


def view_budget(filters: Filters, *, user: User, today: date) -> budget.BudgetReport:
    """The budget report; the page names the patients near the cap (the CSV of the caps lists every one)."""
    program, scope = _scope(filters, today)
    report = budget.budget_report(program, scope, today)
    _viewed("budget", filters, user, (u.patient_id for u in report.near_cap))
    return report


def api_outcomes(filters: Filters, *, user: User, today: date) -> dict[str, Any]:
    """GET /api/v1/reports/outcomes (docs/api.md): pooled figures and the same per patient."""
    report = view_outcomes(filters, user=user, today=today)
    return {**as_api(report.totals),
            "patients": [{"patient_id": p.patient_id, **as_api(p.measures)} for p in report.patients]}


def _patient_rows(report: outcomes.OutcomeReport) -> Iterator[Sequence[Any]]:
    for p in report.patients:
        m = p.measures
        yield (p.patient_id, p.display_name, p.record_number, p.status, p.start_on.isoformat(), m.successes,
               m.submitted, m.itt_denominator, m.percent_negative_submitted, m.percent_negative_itt, p.lda_samples,
               p.lda_weeks, p.retention_weeks, m.attendance_rate, plain_dollars(m.earned_cents),
               plain_dollars(m.redeemed_cents), plain_dollars(m.outstanding_cents))


PATIENT_HEADER = ("patient_id", "name", "record_number", "status", "start_date", "negatives", "submitted",
                  "scheduled_less_excused", "percent_negative_submitted", "percent_negative_itt", "lda_samples",
                  "lda_weeks", "retention_weeks", "attendance_rate", "earned_usd", "redeemed_usd", "outstanding_usd")


def _api_rows(report: outcomes.OutcomeReport) -> Iterator[Sequence[Any]]:
    for p in report.patients:
        yield (p.patient_id, *as_api(p.measures).values())


def _outcome_tables(report: outcomes.OutcomeReport) -> dict[str, Table]:
    return {
        "patients": _named(PATIENT_HEADER, _patient_rows(report)),
        "api": _named(("patient_id", *API_FIELDS), _api_rows(report)),
        "weekly": _aggregate(("week_starting", "negatives", "submitted", "scheduled_less_excused",
                              "percent_negative_submitted", "percent_negative_itt"),
                             [(w.week_on.isoformat(), w.successes, w.submitted, w.itt_denominator, w.percent_submitted,
                               w.percent_itt) for w in report.weekly]),
        "retention": _aggregate(("week", "still_coming", "enrolled_that_long", "percent"),
                                [(r.week, r.retained, r.eligible, r.percent) for r in report.retention]),
    }


def _fidelity_tables(report: fidelity.FidelityReport, scope: Scope) -> dict[str, Table]:
    _, every = fidelity.unrecorded_visits(scope, limit=None)
    return {
        "awards": _aggregate(("source", "entries", "value_usd", "percent_of_entries"),
                             [(s.label, s.count, plain_dollars(s.cents), s.share) for s in report.awards]),
        "immediacy": _aggregate(("measure", "delay", "count", "percent"),
                                [("collection to award", d.label, d.count, d.share) for d in report.award_delays]
                                + [("request to hand-over", d.label, d.count, d.share)
                                   for d in report.handover_delays]),
        "unrecorded": _named(("patient_id", "name", "visit_date"),
                             [(u.patient_id, u.display_name, u.due_on.isoformat()) for u in every]),
        "cabinet": _aggregate(("item", "tier", "last_counted_at", "expected", "counted", "status"),
                              [(c.reward, c.tier, c.last_counted_at.isoformat() if c.last_counted_at else "",
                                c.expected, c.counted, c.status) for c in report.cabinet]),
        "negative": _named(("patient_id", "name", "points", "value_usd"),
                           [(n.patient_id, n.display_name, n.points, plain_dollars(n.value_cents))
                            for n in report.negative]),
    }


def _budget_tables(report: budget.BudgetReport) -> dict[str, Table]:
    f = report.forecast
    return {
        "caps": _named(("patient_id", "name", "cap_used_usd", "cap_usd", "percent_used"),
                       [(u.patient_id, u.display_name, plain_dollars(u.used_cents), plain_dollars(u.cap_cents),
                         u.percent) for u in report.cap_uses]),
        "months": _aggregate(("month", "spent_usd", "cumulative_usd", "percent_of_budget"),
                             [(m.month.strftime("%Y-%m"), plain_dollars(m.spent_cents),
                               plain_dollars(m.cumulative_cents), m.budget_share) for m in report.months]),
        "forecast": _aggregate(("spent_usd", "last_weeks", "spent_last_weeks_usd", "active_enrollments",
                                "weekly_usd_per_enrollment", "enrollment_weeks_left", "projected_more_usd",
                                "projected_total_usd", "budget_usd", "projected_percent_of_budget"),
                               [(plain_dollars(f.spent_cents), f.rate_weeks, plain_dollars(f.recent_cents), f.active,
                                 plain_dollars(f.weekly_cents_per_enrollment), f.remaining_enrollment_weeks,
                                 plain_dollars(f.projected_more_cents), plain_dollars(f.projected_total_cents),
                                 plain_dollars(f.budget_cents), f.projected_share)]),
    }


TABLES: dict[str, tuple[str, ...]] = {
    "outcomes": ("patients", "api", "weekly", "retention"),
    "fidelity": ("awards", "immediacy", "unrecorded", "cabinet", "negative"),
    "budget": ("caps", "months", "forecast"),
}


def export_table(report: str, table: str, filters: Filters, *, user: User, today: date) -> Export:
    """One report table as CSV rows; unknown names are NotFound."""
    if table not in TABLES.get(report, ()):
        raise NotFound("There is no such report table.")
    program, scope = _scope(filters, today)
    builders: dict[str, Callable[[], dict[str, Table]]] = {
        "outcomes": lambda: _outcome_tables(outcomes.outcome_report(program, scope)),
        "fidelity": lambda: _fidelity_tables(fidelity.fidelity_report(program, scope, today), scope),
        "budget": lambda: _budget_tables(budget.budget_report(program, scope, today)),
    }
    found = builders[report]()[table]
    rows = found.rows
    shown: list[int] = []
    if found.identified:  # built in memory already: listing them for the audit row costs no query
        listed = list(rows)
        rows, shown = iter(listed), [row[0] for row in listed]
    log_now("report.export", user=user, object_type="report", object_id=f"{report}/{table}",
            detail={**filters.detail(), "identified": found.identified}, patient_ids=shown)
    return Export(f"{_slug(program.name)}-{report}-{table}-{scope.end.isoformat()}.csv", found.header, rows,
                  found.identified)


def export_ledger(program_id: int | None, *, user: User, today: date) -> Export:
    program = db.session.get(Program, program_id) if program_id else None
    if program_id and program is None:
        raise NotFound("There is no such programme.")
    log_now("report.export", user=user, object_type="report", object_id="ledger",
            detail={"program_id": program_id, "identified": True},
            patient_ids=exports.ledger_patient_ids(program_id))
    name = _slug(program.name) if program else "all-programmes"
    return Export(f"{name}-ledger-{today.isoformat()}.csv", exports.LEDGER_HEADER, exports.ledger_rows(program_id),
                  identified=True)


def export_funders(*, user: User, today: date) -> Export:
    """The de-identified export for funders: every programme, one aggregate row per calendar year."""
    log_now("report.export", user=user, object_type="report", object_id="funders", detail={"deidentified": True})
    return Export(f"cm-outcomes-deidentified-{today.year}.csv", exports.FUNDER_HEADER,
                  exports.funder_rows(programs(), today), identified=False)


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-") or "programme"
