"""The outcome report of a clinic world (tests/worlds/clinic.py), for the report tests."""

from __future__ import annotations

from datetime import date

from worlds.clinic import Clinic


def report(clinic: Clinic, start: date | None = None, end: date | None = None, counselor_id: int | None = None):
    from cm_tracker.services.core.clinic import clinic_today
    from cm_tracker.services.queries.reports.outcomes import make_scope, outcome_report

    program, scope = make_scope(clinic.program_id, counselor_id, start, end, clinic_today())
    return outcome_report(program, scope)


def notice_line() -> str:
    """The Part 2 notice row as the CSV writes it above the header of every identified export."""
    import csv
    import io

    from cm_tracker.services.core.part2 import CSV_NOTICE_ROW

    buffer = io.StringIO()
    csv.writer(buffer).writerow(CSV_NOTICE_ROW)
    return buffer.getvalue()


def without_notice(text: str, *, notice: bool) -> str:
    """The CSV text from its header on: an identified export (`notice`) must open with the Part 2 notice row, any
    other must open with its header."""
    assert text.startswith(notice_line()) is notice, text[:200]
    return text[len(notice_line()):] if notice else text


def csv_rows(text: str, *, notice: bool) -> str:
    """The CSV body from its header on, without its last row, which must state how many rows came before it
    (docs/reports.md); `notice` says whether the export names patients and so opens with the Part 2 notice."""
    body, _, last = without_notice(text, notice=notice).rstrip("\r\n").rpartition("\r\n")
    data = body.split("\r\n")[1:]  # rows of these tests hold no line breaks
    assert last == f"# end of export: {len(data)} rows", last
    return body + "\r\n"
