"""The records a disclosure packet carries (42 CFR 2.32; docs/part2.md): a patient's results, attendance, rewards and
goal activities within a period of the clinic's dates, as plain JSON-able facts.

The packet stores what this returns as it left (models.DisclosurePacket.content) and prints from that copy only, so
what is kept is codes and values (statuses, analyte keys, cents), never sentences: the printed page words them in
the packet's language, and a result corrected later changes nothing in a packet already sent. Each section costs a
fixed handful of statements, whatever the length of the history.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from cm_tracker.engine.outcomes import ActivityStatus, AttendanceStatus, SpecimenStatus
from cm_tracker.extensions import db
from cm_tracker.models import (
    AttendanceRecord,
    ClinicClosure,
    Enrollment,
    EntryKind,
    Excuse,
    GoalActivity,
    LedgerEntry,
    Patient,
    Program,
    Redemption,
    Reward,
    ScheduledVisit,
    Specimen,
)
from cm_tracker.services.core.clinic import clinic_date, start_of_day
from cm_tracker.services.queries.patient_record import target_labels

# The kinds of record a packet may carry, in the order a packet prints them: the one owner of the names (the form's
# checkboxes, the API's "include", the stored `sections`).
SECTIONS: tuple[str, ...] = ("results", "attendance", "rewards", "activities")
# How a description names each kind ("Test results and attendance, 1 November to 30 November 2026").
SECTION_WORDS = {"results": "test results", "attendance": "attendance", "rewards": "rewards earned and spent",
                 "activities": "goal activities"}

Records = dict[str, Any]


def records_for(patient_id: int, start: date, end: date, sections: Sequence[str]) -> Records:
    """The patient's records of the chosen kinds dated within [start, end] (the clinic's dates), oldest first, with
    the patient and programmes they belong to, as the packet shows them."""
    chosen = [name for name in SECTIONS if name in sections]
    patient = db.session.get(Patient, patient_id)
    found: Records = {
        "from": start.isoformat(), "to": end.isoformat(), "sections": chosen,
        "patient": {"name": patient.display_name if patient else "",
                    "record_number": patient.record_number if patient else ""},
        "programs": _programs(patient_id, start, end)}
    for name in chosen:
        found[name] = _READERS[name](patient_id, start, end)
    return found


def _programs(patient_id: int, start: date, end: date) -> list[str]:
    rows = db.session.scalars(
        select(Program.name).join(Enrollment, Enrollment.program_id == Program.id)
        .where(Enrollment.patient_id == patient_id, Enrollment.start_on <= end,
               or_(Enrollment.end_on.is_(None), Enrollment.end_on >= start))
        .order_by(Enrollment.start_on, Enrollment.id))
    return list(dict.fromkeys(rows))


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The UTC moments of the clinic's days [start, end]: from the first's start to the start of the day after."""
    return start_of_day(start), start_of_day(end + timedelta(days=1))


def _results(patient_id: int, start: date, end: date) -> list[dict[str, Any]]:
    """Each specimen as it stands now (its current version; a correction shows as the version it made)."""
    first, after = _bounds(start, end)
    specimens = db.session.scalars(
        select(Specimen).where(Specimen.patient_id == patient_id, Specimen.collected_at >= first,
                               Specimen.collected_at < after)
        .options(selectinload(Specimen.results)).order_by(Specimen.collected_at, Specimen.id))
    return [{"on": clinic_date(s.collected_at).isoformat(), "status": str(s.status),
             "validity": str(s.validity) if s.validity else None, "method": str(s.method) if s.method else None,
             "accession": s.accession, "version": s.version,
             "results": [{"analyte": r.analyte, "result": str(r.result)} for r in s.results]}
            for s in specimens]


def _attendance(patient_id: int, start: date, end: date) -> list[dict[str, Any]]:
    """Each scheduled visit of the period and what became of it, then any session marked without a visit."""
    visits = list(db.session.scalars(
        select(ScheduledVisit).join(Enrollment, ScheduledVisit.enrollment_id == Enrollment.id)
        .where(Enrollment.patient_id == patient_id, ScheduledVisit.due_on >= start, ScheduledVisit.due_on <= end)
        .order_by(ScheduledVisit.due_on, ScheduledVisit.kind, ScheduledVisit.id)))
    ids = [v.id for v in visits]
    tested = dict(db.session.execute(select(Specimen.visit_id, Specimen.status).where(
        Specimen.patient_id == patient_id, Specimen.visit_id.in_(ids))).tuples().all()) if ids else {}
    first, after = _bounds(start, end)
    marks = list(db.session.scalars(select(AttendanceRecord).where(
        AttendanceRecord.patient_id == patient_id,
        or_(AttendanceRecord.visit_id.in_(ids), (AttendanceRecord.visit_id.is_(None)
                                                & (AttendanceRecord.occurred_at >= first)
                                                & (AttendanceRecord.occurred_at < after))))
        .order_by(AttendanceRecord.occurred_at, AttendanceRecord.id)))
    marked = {m.visit_id: m.status for m in marks if m.visit_id is not None}
    reasons = _excuses({(v.enrollment_id, v.due_on) for v in visits})
    programs = _programs_of({v.enrollment_id for v in visits} | {m.enrollment_id for m in marks})
    labels = target_labels(programs.values())
    lines = [_visit_line(v, programs.get(v.enrollment_id, 0), tested.get(v.id), marked.get(v.id),
                         reasons.get((v.enrollment_id, v.due_on)), labels) for v in visits]
    for mark in (m for m in marks if m.visit_id is None):
        program = programs.get(mark.enrollment_id, 0)
        lines.append({"on": clinic_date(mark.occurred_at).isoformat(), "kind": "session", "scheduled": False,
                      "label": labels.get((program, mark.target_key), mark.target_key),
                      "state": _MARKS[AttendanceStatus(mark.status)], "reason": None, "closed": False})
    return sorted(lines, key=lambda line: line["on"])


# What a test visit's specimen and a session's mark say of the visit.
_TESTS = {SpecimenStatus.FINAL: "attended", SpecimenStatus.PENDING: "attended", SpecimenStatus.MISSED: "missed",
          SpecimenStatus.EXCUSED: "excused", SpecimenStatus.REFUSED: "refused"}
_MARKS = {AttendanceStatus.ATTENDED: "attended", AttendanceStatus.EXCUSED: "excused",
          AttendanceStatus.UNEXCUSED: "missed"}


def _visit_line(visit: ScheduledVisit, program: int, specimen: SpecimenStatus | None, mark: AttendanceStatus | None,
                reason: tuple[str, bool] | None, labels: dict[tuple[int, str], str]) -> dict[str, Any]:
    if specimen is not None:
        state = _TESTS[SpecimenStatus(specimen)]
    elif mark is not None:
        state = _MARKS[AttendanceStatus(mark)]
    else:
        state = "excused" if reason else "not_recorded"
    key = visit.target_key
    label = labels.get((program, key), key) if key else None
    excused = state == "excused" and reason is not None
    return {"on": visit.due_on.isoformat(), "kind": str(visit.kind), "scheduled": True, "label": label,
            "state": state, "reason": reason[0] if excused and reason else None,
            "closed": bool(excused and reason and reason[1])}


def _excuses(days: set[tuple[int, date]]) -> dict[tuple[int, date], tuple[str, bool]]:
    """Why each (enrolment, day) is excused, as staff wrote it: the enrolment's excuse, else the clinic's closure
    (True), the same precedence as core.excuses."""
    if not days:
        return {}
    enrollments, dates = {e for e, _ in days}, {d for _, d in days}
    closures = dict(db.session.execute(select(ClinicClosure.closed_on, ClinicClosure.reason).where(
        ClinicClosure.closed_on.in_(dates))).tuples().all())
    excuses = dict(((e, d), r) for e, d, r in db.session.execute(select(
        Excuse.enrollment_id, Excuse.excused_on, Excuse.reason).where(
        Excuse.enrollment_id.in_(enrollments), Excuse.excused_on.in_(dates), Excuse.revoked_at.is_(None))
        .order_by(Excuse.id.desc())))
    found: dict[tuple[int, date], tuple[str, bool]] = {}
    for key in days:
        if key in excuses:
            found[key] = (excuses[key], False)
        elif key[1] in closures:
            found[key] = (closures[key[1]], True)
    return found


def _programs_of(enrollment_ids: set[int]) -> dict[int, int]:
    """The programme of each enrolment, by enrolment id, in one statement."""
    if not enrollment_ids:
        return {}
    return dict(db.session.execute(select(Enrollment.id, Enrollment.program_id).where(
        Enrollment.id.in_(enrollment_ids))).tuples().all())


def _rewards(patient_id: int, start: date, end: date) -> list[dict[str, Any]]:
    """Each ledger line dated within the period (the day its event happened, else the day it was posted); a line of
    nothing (an event that earned nothing) says nothing to a recipient and is left out."""
    first, after = _bounds(start, end)
    happened = func.coalesce(LedgerEntry.occurred_at, LedgerEntry.created_at)
    rows = db.session.execute(
        select(LedgerEntry, Enrollment.program_id, Reward.name)
        .join(Enrollment, Enrollment.id == LedgerEntry.enrollment_id)
        .outerjoin(Redemption, Redemption.id == LedgerEntry.redemption_id)
        .outerjoin(Reward, Reward.id == Redemption.reward_id)
        .where(LedgerEntry.patient_id == patient_id, happened >= first, happened < after,
               or_(LedgerEntry.points != 0, LedgerEntry.draws != 0, LedgerEntry.value_cents != 0))
        .order_by(happened, LedgerEntry.id)).tuples().all()
    labels = target_labels({program for _, program, _ in rows})
    return [{"on": clinic_date(e.occurred_at or e.created_at).isoformat(), "kind": str(e.kind),
             "label": reward or (labels.get((program, e.target_key), e.target_key) if e.target_key else None),
             "event": str(e.event_type) if e.event_type else None, "points": e.points, "draws": e.draws,
             "value_cents": e.value_cents, "note": e.reason if e.kind == EntryKind.MANUAL else None}
            for e, program, reward in rows]


def _activities(patient_id: int, start: date, end: date) -> list[dict[str, Any]]:
    """Each goal activity of the period: the day it happened when staff gave one, else its contract week's Monday."""
    rows = db.session.scalars(select(GoalActivity).where(
        GoalActivity.patient_id == patient_id, GoalActivity.week_of >= start - timedelta(days=6),
        GoalActivity.week_of <= end).order_by(GoalActivity.week_of, GoalActivity.id))
    lines = []
    for a in rows:
        day = clinic_date(a.occurred_at) if a.occurred_at else a.week_of
        if start <= day <= end:
            lines.append({"on": day.isoformat(), "week_of": a.week_of.isoformat(), "activity": a.description,
                          "status": str(a.status), "verified": a.status == ActivityStatus.VERIFIED})
    return sorted(lines, key=lambda line: line["on"])


_READERS: dict[str, Callable[[int, date, date], list[dict[str, Any]]]] = {
    "results": _results, "attendance": _attendance, "rewards": _rewards, "activities": _activities}
