"""The stored state of each enrolment's targets: streak, level and what the next success earns (docs/rules.md 4, 7).

The evaluation that posts an enrolment's ledger (usecases.reevaluation) stores, in the same transaction, one
TargetState row per target through `store_states`; the bulk builder writes the same `state_rows`. Readers (the
balance, the caseload and dashboard streaks, the patient record, the portal, the desk result) call `states_for`,
one query for any number of enrolments, and fit the stored preview to the programme's limits with the cap use they
read live (`engine.program.fit_preview`), because prizes, adjustments and the calendar move the cap without an
evaluation.

A row answers for dates up to its `valid_until`, which the engine gives (`engine.program.preview_holds_until`: the day
before another schedule version takes effect, and for a schedule that escalates per calendar week the last day of
the week it was computed in). A missing or outdated row is evaluated live by `live_states`, which loads every
such enrolment's history at once, so the number of queries never grows with the caseload.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Row, bindparam, delete, insert, or_, select, update

from cm_tracker.engine.evaluate import NextPreview, preview_next
from cm_tracker.engine.events import TargetEvent
from cm_tracker.engine.program import ProgramEvaluation, evaluate_program, preview_holds_until
from cm_tracker.engine.rules import ProgramRules
from cm_tracker.extensions import db
from cm_tracker.models import Enrollment, TargetState
from cm_tracker.services.core.events import events_for_many, rules_by_program, rules_for


@dataclass(frozen=True, slots=True)
class TargetNow:
    """One target of one enrolment as of its last evaluation; `next` is before the programme's limits."""

    target: str
    run: int
    level: int
    next: NextPreview


def state_rows(enrollment_id: int, patient_id: int, rules: ProgramRules, evaluation: ProgramEvaluation,
               events: Mapping[Hashable, Sequence[TargetEvent]], on: date) -> list[dict[str, Any]]:
    """One row per target of the programme, from the evaluation just made of `events` (the engine's input)."""
    rows = []
    for position, target in enumerate(rules.targets):
        awards = evaluation.by_target.get(target.key, ())
        last = awards[-1] if awards else None
        preview = preview_next(target.schedule, events.get(target.key, ()), on, target.label, target.versions)
        rows.append({
            "enrollment_id": enrollment_id, "target_key": str(target.key), "patient_id": patient_id,
            "position": position, "run": last.run if last else 0, "level": last.level if last else 0,
            "next_points": preview.points, "next_draws": preview.draws, "next_explanation": preview.explanation,
            "reset_points": preview.reset_points, "reset_draws": preview.reset_draws,
            "reset_explanation": preview.reset_explanation, "computed_on": on,
            "valid_until": preview_holds_until(target, on),
        })  # fmt: skip
    return rows


def stored_states(enrollment_id: int) -> dict[str, Row[Any]]:
    """The enrolment's rows as stored, by target (store_states compares with them): plain rows of every column, not
    ORM objects, so that a desk entry neither builds them nor has the session flush what it changed of them."""
    db.session.flush()  # as the ORM's autoflush did before this statement on the table's columns
    return {s.target_key: s for s in db.session.execute(_OWN_STATES, {"enrollment_id": enrollment_id}).all()}


_t = TargetState.__table__
_OWN_STATES = select(*_t.c).where(_t.c.enrollment_id == bindparam("enrollment_id"))


def stored_states_many(enrollment_ids: Sequence[int]) -> dict[int, dict[str, Row[Any]]]:
    """stored_states of many enrolments, in one statement."""
    found: dict[int, dict[str, Row[Any]]] = {eid: {} for eid in enrollment_ids}
    if found:
        db.session.flush()
        for state in db.session.execute(_MANY_STATES, {"ids": list(found)}).all():
            found[state.enrollment_id][state.target_key] = state
    return found


_MANY_STATES = select(*_t.c).where(_t.c.enrollment_id.in_(bindparam("ids", expanding=True)))
_KEY = ("enrollment_id", "target_key")
# A stored row's values in its statement's order (every column): compared as one tuple with the row state_rows
# makes (a plain row's attributes by name cost far more).
_COLUMNS = tuple(_t.c.keys())
# Built once (every desk entry writes its targets' rows): on the table, by primary key, every other column set.
_UPDATE_STATE = update(_t).where(*(_t.c[n] == bindparam(f"key_{n}") for n in _KEY))


def store_states(enrollment: Enrollment, rules: ProgramRules, evaluation: ProgramEvaluation,
                 events: Mapping[Hashable, Sequence[TargetEvent]], on: date,
                 held: Mapping[str, Row[Any]] | None = None) -> None:
    """Replace the enrolment's rows with this evaluation's, in the caller's transaction (only rows that differ);
    `held` is stored_states read earlier (before the write locked), else it is read now."""
    rows = state_rows(enrollment.id, enrollment.patient_id, rules, evaluation, events, on)
    held = dict(stored_states(enrollment.id) if held is None else held)
    inserts, updates = [], []
    for row in rows:
        stored = held.pop(row["target_key"], None)
        if stored is None:
            inserts.append(row)
        elif tuple(stored) != tuple(row[name] for name in _COLUMNS):
            updates.append({**{n: v for n, v in row.items() if n not in _KEY},
                            **{f"key_{n}": row[n] for n in _KEY}})
    if inserts:
        db.session.execute(insert(_t), inserts)
    if updates:
        db.session.execute(_UPDATE_STATE, updates)
    if held:  # a target the programme no longer has
        db.session.execute(delete(TargetState).where(TargetState.enrollment_id == enrollment.id,
                                                     TargetState.target_key.in_(list(held))))


def store_first_states(enrollment: Enrollment, on: date) -> None:
    """The state of a new enrollment, before its first event (admission stores it, so a new patient on the caseload
    costs no live evaluation)."""
    rules = rules_for(enrollment.program, on)
    store_states(enrollment, rules, evaluate_program(rules, {}), {}, on)


def end_states_before(program_id: int, target_key: str, effective_on: date) -> None:
    """A new schedule version takes effect on `effective_on`: stored previews of that target hold until the day
    before, then readers evaluate live until the next evaluation stores a new row (in the caller's transaction)."""
    last = effective_on - timedelta(days=1)
    enrolled = select(Enrollment.id).where(Enrollment.program_id == program_id)
    db.session.execute(update(TargetState).where(
        TargetState.enrollment_id.in_(enrolled), TargetState.target_key == target_key,
        or_(TargetState.valid_until.is_(None), TargetState.valid_until > last)).values(valid_until=last))


def _now_of(r: StoredRow) -> TargetNow:
    """A stored row as a reader sees it."""
    return TargetNow(r.target_key, r.run, r.level, NextPreview(
        r.next_points, r.next_draws, r.next_explanation, r.reset_points, r.reset_draws, r.reset_explanation))


class StoredRow(NamedTuple):
    """A stored row as a reader takes it: plain columns, not an ORM object (a caseload reads three a patient)."""

    enrollment_id: int
    target_key: str
    position: int
    computed_on: date
    valid_until: date | None
    run: int
    level: int
    next_points: int
    next_draws: int
    next_explanation: str
    reset_points: int
    reset_draws: int
    reset_explanation: str


# The columns of a StoredRow, in its order, for a reader that selects them in its own statement (core.balances).
READ_COLUMNS = tuple(getattr(TargetState, name) for name in StoredRow._fields)
# Built once: the balance, the caseload and the portal read it on every request.
_STATES = select(*READ_COLUMNS).where(TargetState.enrollment_id.in_(bindparam("ids", expanding=True)))


def _holds(row: StoredRow, on: date) -> bool:
    return row.computed_on <= on and (row.valid_until is None or on <= row.valid_until)


def states_for(enrollments: Iterable[Enrollment], on: date, *,
               every_target: bool = False) -> dict[int, dict[str, TargetNow]]:
    """Each enrolment's targets as of `on`, in the programme's target order: stored rows in one query, the rest
    (no row yet, or past its `valid_until`) evaluated live in a fixed handful of queries.

    The stored rows are the programme's targets as of the evaluation (the app changes no target once patients are
    enrolled). A reader that has the programme's targets loaded anyway passes `every_target`, and an enrolment
    whose rows do not cover each of them is evaluated live too."""
    wanted = {e.id: e for e in enrollments}
    if not wanted:
        return {}
    rows = (StoredRow(*row) for row in db.session.execute(_STATES, {"ids": list(wanted)}))
    return states_from_rows(wanted.values(), rows, on, every_target=every_target)


def states_from_rows(enrollments: Iterable[Enrollment], rows: Iterable[StoredRow], on: date, *,
                     every_target: bool = False) -> dict[int, dict[str, TargetNow]]:
    """`states_for` from stored rows the caller read already (the balance reads them in its own statement)."""
    stored: dict[int, dict[str, StoredRow]] = {}
    for row in rows:
        stored.setdefault(row.enrollment_id, {})[row.target_key] = row
    found: dict[int, dict[str, TargetNow]] = {}
    stale: list[Enrollment] = []
    for enrollment in enrollments:
        ordered = sorted(stored.get(enrollment.id, {}).values(), key=lambda r: r.position)
        # The rows are the programme's targets as of the evaluation (a programme's targets are fixed once patients
        # are enrolled), so the programme need not be loaded to know them.
        covered = not every_target or {r.target_key for r in ordered} >= {t.key for t in enrollment.program.targets}
        if ordered and covered and all(_holds(r, on) for r in ordered):
            found[enrollment.id] = {r.target_key: _now_of(r) for r in ordered}
        else:
            stale.append(enrollment)
    found.update(live_states(stale, on))
    return found


def live_states(enrollments: Sequence[Enrollment], on: date) -> dict[int, dict[str, TargetNow]]:
    """What `state_rows` would store, evaluated now from the histories (every enrolment's loaded at once)."""
    if not enrollments:
        return {}
    rules = rules_by_program({e.program_id for e in enrollments})
    events = events_for_many(list(enrollments), rules)
    found = {}
    for e in enrollments:
        program_rules, history = rules[e.program_id], events.get(e.id, {})
        rows = state_rows(e.id, e.patient_id, program_rules, evaluate_program(program_rules, history), history, on)
        found[e.id] = {r["target_key"]: _now_of(StoredRow(**{name: r[name] for name in StoredRow._fields}))
                       for r in rows}
    return found
