"""Applying a lab's specimens to patients, in the caller's transaction (usecases/lab_results.py commits).

usecases/lab_plan.py decides what each accession does and locks the enrolments to be written. The specimen rules
are checked first (a refusal holds that accession with the rule's message); then every specimen is written at once in
one SAVEPOINT and each enrolment is re-evaluated once, after all of its specimens (usecases/reevaluation.py). Only if
a write is refused all the same (another write won the specimen's version or the accession meanwhile) is the message
written again an enrolment at a time, each accession in its own SAVEPOINT, so that the refused one is held and leaves
nothing behind. Every accession gets its LabResult row; a held one is audited, a written specimen as at the desk.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from cm_tracker.engine.rules import ProgramRules
from cm_tracker.extensions import db
from cm_tracker.models import (
    EntryKind,
    EventType,
    LabAction,
    LabResult,
    LedgerEntry,
    ReviewStatus,
    Specimen,
    User,
    VisitKind,
)
from cm_tracker.services.core import audit
from cm_tracker.services.core.clinic import clinic_date
from cm_tracker.services.core.errors import Conflict, ServiceError
from cm_tracker.services.core.events import rules_for, specimen_outcomes
from cm_tracker.services.core.versions import try_claim
from cm_tracker.services.core.visit_links import open_test_visits, visit_for
from cm_tracker.services.queries.correction_reasons import lab_reason
from cm_tracker.services.usecases.lab_content import storable
from cm_tracker.services.usecases.lab_plan import CHANGES, Plan
from cm_tracker.services.usecases.reevaluation import Prepared, prepare_many, reevaluate_and_refresh
from cm_tracker.services.usecases.specimens import (
    NewSpecimen,
    abstinence_analytes,
    add_specimen,
    add_specimens,
    check_input,
    entered_late,
    revise_specimen,
)

__all__ = ["LabResultOutcome", "Posted", "apply_plans"]


@dataclass(frozen=True, slots=True)
class Posted:
    """A ledger entry a result posted, as plain values: a message is written in chunks whose rows the session
    then forgets, and the answer names every entry (the API's `Award`, api/events.entry_summary)."""

    kind: EntryKind
    target_key: str | None
    points: int
    draws: int
    value_cents: int
    reason: str
    event_type: EventType | None
    event_id: int | None

    @classmethod
    def of(cls, entry: LedgerEntry) -> Posted:
        return cls(entry.kind, entry.target_key, entry.points, entry.draws, entry.value_cents, entry.reason,
                   entry.event_type, entry.event_id)


@dataclass(slots=True)
class LabResultOutcome:
    """What one accession did (docs/api.md POST /lab-results, `results[]`); `held_id` is the LabResult row that
    waits for review (this one's, or the same result's sent before)."""

    accession: str
    record_number: str | None
    patient_id: int | None
    specimen_id: int | None
    action: LabAction
    outcomes: dict[str, str] = field(default_factory=dict)
    awards: list[Posted] = field(default_factory=list)
    adjustments: list[Posted] = field(default_factory=list)
    reason: str | None = None
    held_id: int | None = None


_WRITES = (LabAction.CREATED, *CHANGES)


def apply_plans(message_id: int, plans: list[Plan], *, lab: str,
                actor: User | None) -> list[tuple[LabResultOutcome, LabResult]]:
    """Write what the plans decided (usecases/lab_plan.plan_all, which locked the enrolments) and a LabResult row
    for each, flushed; the outcomes in the plans' order. The caller commits."""
    writing = [p for p in plans if p.action in _WRITES and p.enrollment is not None]
    for plan in writing:  # the specimen rules first, so that the writes below are refused only by a race
        try:
            check_input(plan.data, abstinence_analytes(plan.enrollment.program))
        except ServiceError as error:
            plan.hold(_message(error))
    posted = _write_all([p for p in writing if p.action != LabAction.HELD], lab=lab, actor=actor)
    rows = [(plan, _row(message_id, plan)) for plan in plans]
    db.session.add_all([row for _, row in rows])
    db.session.flush()
    for plan, row in rows:
        if plan.action == LabAction.HELD:
            waiting = {"waiting_id": plan.waiting_id} if plan.waiting_id else {}
            audit.record("lab.hold", user=actor, patient_id=row.patient_id, object_type="lab_result",
                         object_id=row.id, detail={"accession": row.accession, "reason": row.reason, **waiting})
    outcomes = _Outcomes(posted)
    return [(outcomes.of(plan, row), row) for plan, row in rows]


def _write_all(plans: list[Plan], *, lab: str, actor: User | None) -> dict[int, list[LedgerEntry]]:
    """Every specimen at once, in one SAVEPOINT, then each enrolment's one re-evaluation: the usual way, as the
    rules were checked. If a write is refused all the same (another write won a claim or an accession meanwhile),
    everything is done again an enrolment at a time, each accession in its own SAVEPOINT, holding the refused ones."""
    if not plans:
        return {}
    groups: dict[int, list[Plan]] = defaultdict(list)
    for plan in plans:
        groups[plan.enrollment.id].append(plan)
    reasons = {enrollment_id: _because(group, lab) for enrollment_id, group in groups.items()}
    try:
        with db.session.begin_nested():
            _write_batch(plans, reasons, lab=lab, actor=actor)
            # Read after the writes (flushed) and under the enrolments' locks (lab_plan.plan_all): the history is
            # the one a re-evaluation would read, for every enrolment of the chunk at once.
            prepared = prepare_many([groups[eid][0].enrollment for eid in sorted(groups)], locked=True)
            posted: dict[int, list[LedgerEntry]] = {}
            for enrollment_id in sorted(groups):
                posted.update(_reevaluate(groups[enrollment_id], reasons[enrollment_id], actor,
                                          prepared[enrollment_id]))
            return posted
    except (ServiceError, IntegrityError):
        for plan in plans:
            _forget_new(plan)
    posted = {}
    for enrollment_id in sorted(groups):
        posted.update(_apply_enrollment(groups[enrollment_id], reasons[enrollment_id], lab=lab, actor=actor))
    return posted


def _because(plans: list[Plan], lab: str) -> str:
    """The reason of one enrolment's corrections (their versions' and adjustments'): the lab and the accessions."""
    changes = [p for p in plans if p.action in CHANGES]
    if not changes:
        return ""
    return lab_reason(lab, [p.accession for p in changes],
                      withdrawn=all(p.action == LabAction.WITHDRAWN for p in changes))


def _write_batch(plans: list[Plan], reasons: dict[int, str], *, lab: str, actor: User | None) -> None:
    # In time order, so that of two specimens of one day the first takes the day's visit, as at the desk.
    creating = sorted((p for p in plans if p.specimen is None), key=lambda p: (p.data.collected_at, p.accession))
    visits = open_test_visits({_day(p) for p in creating})
    made = add_specimens([NewSpecimen(p.patient.id, p.enrollment.id, p.data, visits.pop(_day(p), None),
                                      lab_reason(lab, [p.accession])) for p in creating], actor=actor)
    for plan, specimen in zip(creating, made, strict=True):
        plan.specimen = specimen
    for plan in plans:
        if plan.action in CHANGES:
            _revise(plan, reasons[plan.enrollment.id], actor)
    db.session.flush()


def _day(plan: Plan) -> tuple[int, date]:
    return plan.enrollment.id, clinic_date(plan.data.collected_at)


def _revise(plan: Plan, reason: str, actor: User | None) -> None:
    """A new version of the specimen, if its version is still the one the plan was computed from (lab_plan reads
    before it locks, as the desk does)."""
    specimen = plan.specimen
    assert specimen is not None and plan.data is not None
    if not try_claim(Specimen, specimen.id, specimen.version):  # no rollback here: the caller's SAVEPOINT undoes it
        raise Conflict("The specimen changed while the lab's result was applied: apply it again.")
    set_committed_value(specimen, "version", specimen.version + 1)
    revise_specimen(specimen, plan.data, reason=reason, actor=actor)


def _reevaluate(plans: list[Plan], because: str, actor: User | None,
                prepared: Prepared | None = None) -> dict[int, list[LedgerEntry]]:
    """One enrolment's re-evaluation, from `prepared` when it was read after its specimens were written (so it holds
    them already: no rows to add), else reading now."""
    enrollment = plans[0].enrollment
    assert enrollment is not None
    because = because or entered_late(min(p.data.collected_at for p in plans if p.data))
    return _share(plans, reevaluate_and_refresh(enrollment, because=because, actor=actor, prepared=prepared))


def _apply_enrollment(plans: list[Plan], because: str, *, lab: str,
                      actor: User | None) -> dict[int, list[LedgerEntry]]:
    """One enrolment's specimens, each in its SAVEPOINT, then its re-evaluation; a refused re-evaluation holds them
    all."""
    try:
        with db.session.begin_nested():
            written = [p for p in plans if _write(p, because if p.action in CHANGES else lab_reason(
                lab, [p.accession]), actor)]
            return _reevaluate(written, because, actor) if written else {}
    except ServiceError as error:
        for plan in plans:
            _held_after(plan, _message(error))
        return {}


def _write(plan: Plan, reason: str, actor: User | None) -> bool:
    """One specimen in its SAVEPOINT; a refusal holds it with the message and leaves nothing of it."""
    assert plan.data is not None and plan.enrollment is not None and plan.patient is not None
    try:
        with db.session.begin_nested():
            if plan.specimen is None:
                visit_id = visit_for(plan.enrollment.id, VisitKind.TEST, clinic_date(plan.data.collected_at))
                plan.specimen = add_specimen(plan.patient, plan.enrollment, plan.data, visit_id=visit_id,
                                             actor=actor, reason=reason)
            else:
                _revise(plan, reason, actor)
            db.session.flush()
    except ServiceError as error:
        _held_after(plan, _message(error))
        return False
    except IntegrityError:  # another write took the accession or the time since the plan read them
        _held_after(plan, "Another specimen with this accession or collection time was recorded meanwhile: "
                          "apply it again.")
        return False
    return True


def _forget_new(plan: Plan) -> None:
    """A specimen it was creating is gone with the SAVEPOINT rolled back."""
    if plan.action == LabAction.CREATED:
        plan.specimen = None


def _held_after(plan: Plan, reason: str) -> None:
    _forget_new(plan)
    plan.hold(reason)


def _share(written: list[Plan], posted: list[LedgerEntry]) -> dict[int, list[LedgerEntry]]:
    """The entries posted, by the specimen whose event they are; entries of other events (a late result moves what
    later tests earn) go with the earliest specimen written."""
    ids = {p.specimen.id for p in written if p.specimen}
    first = min((p.data.collected_at, p.specimen.id) for p in written if p.data and p.specimen)[1]
    shared: dict[int, list[LedgerEntry]] = defaultdict(list)
    for entry in posted:
        mine = entry.event_type == EventType.SPECIMEN and entry.event_id in ids
        shared[entry.event_id if mine and entry.event_id else first].append(entry)
    return shared


def _message(error: ServiceError) -> str:
    details = "; ".join(f"{name}: {text}" for name, text in error.fields.items())
    return f"{error.message} {details}".strip()


def _row(message_id: int, plan: Plan) -> LabResult:
    held = plan.action == LabAction.HELD
    return LabResult(
        message_id=message_id, location=plan.location[:120], accession=plan.accession[:64],
        record_number=(plan.record_number or None) and plan.record_number[:40],
        patient_id=plan.patient.id if plan.patient else None,
        specimen_id=plan.specimen.id if plan.specimen and not held else None, action=plan.action,
        reason=storable(plan.reason or ""), content=plan.content, content_digest=plan.digest,
        review_status=ReviewStatus.WAITING if held and plan.waiting_id is None else None)


class _Outcomes:
    """Each plan's outcome: the entries posted for its specimen and what its specimen now is for each target (the
    programme's rules built once per programme, not per result)."""

    def __init__(self, posted: dict[int, list[LedgerEntry]]) -> None:
        self.posted = posted
        self.rules: dict[int, ProgramRules] = {}

    def of(self, plan: Plan, row: LabResult) -> LabResultOutcome:
        specimen = plan.specimen if plan.action != LabAction.HELD else None
        entries = self.posted.get(specimen.id, []) if specimen else []
        return LabResultOutcome(
            accession=plan.accession, record_number=plan.record_number,
            patient_id=plan.patient.id if plan.patient else None, specimen_id=specimen.id if specimen else None,
            action=plan.action or LabAction.HELD, outcomes=self._outcomes(specimen) if specimen else {},
            awards=[Posted.of(e) for e in entries if e.kind == EntryKind.AWARD],
            adjustments=[Posted.of(e) for e in entries if e.kind != EntryKind.AWARD], reason=plan.reason,
            held_id=(plan.waiting_id or row.id) if plan.action == LabAction.HELD else None)

    def _outcomes(self, specimen: Specimen) -> dict[str, str]:
        program = specimen.enrollment.program
        if program.id not in self.rules:
            self.rules[program.id] = rules_for(program)
        return {key: str(found[0]) for key, found in specimen_outcomes(self.rules[program.id], specimen).items()}
