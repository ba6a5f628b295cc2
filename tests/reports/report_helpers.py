"""The outcome report of a clinic world (tests/worlds/clinic.py), for the report tests."""

from __future__ import annotations

from datetime import date

from worlds.clinic import Clinic


def report(clinic: Clinic, start: date | None = None, end: date | None = None, counselor_id: int | None = None):
    from cm_tracker.services.core.clinic import clinic_today
    from cm_tracker.services.queries.reports.outcomes import make_scope, outcome_report

    program, scope = make_scope(clinic.program_id, counselor_id, start, end, clinic_today())
    return outcome_report(program, scope)


def csv_rows(text: str) -> str:
    """The CSV body without its last row, which must state how many rows came before it (docs/reports.md)."""
    body, _, last = text.rstrip("\r\n").rpartition("\r\n")
    data = body.split("\r\n")[1:]  # rows of these tests hold no line breaks
    assert last == f"# end of export: {len(data)} rows", last
    return body + "\r\n"
