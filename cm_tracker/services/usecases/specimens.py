"""Recording and correcting drug-test specimens; each posts its awards in the same transaction (docs/rules.md 3, 6)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select

from cm_tracker.engine.outcomes import untested_analytes
from cm_tracker.engine.rules import TargetKind
from cm_tracker.extensions import db
from cm_tracker.models import (
    AnalyteResult,
    AuditEvent,
    Enrollment,
    EventType,
    LedgerEntry,
    Patient,
    Program,
    RecordType,
    RecordVersion,
    Specimen,
    SpecimenResult,
    SpecimenStatus,
    TestMethod,
    User,
    Validity,
    VisitKind,
)
from cm_tracker.models.types import now_default
from cm_tracker.services.core import audit, chain
from cm_tracker.services.core.clinic import clinic_date
from cm_tracker.services.core.enrollments import enrollment_on
from cm_tracker.services.core.errors import Conflict, ValidationFailed
from cm_tracker.services.core.events import rules_for, specimen_outcomes
from cm_tracker.services.core.excuses import EXCUSED_SPECIMEN, excused_because, with_excuse
from cm_tracker.services.core.ledger import entries_for_event
from cm_tracker.services.core.versions import claim_version
from cm_tracker.services.core.visit_links import visit_for
from cm_tracker.services.usecases.reevaluation import Prepared, attempts, claim, reevaluate_and_refresh
from cm_tracker.services.usecases.specimen_inserts import insert_specimen
from cm_tracker.services.usecases.transactions import commit_keeping_loaded
from cm_tracker.timeutil import utcnow

# A clock a few minutes fast on a tablet should not refuse a real specimen.
FUTURE_TOLERANCE = timedelta(minutes=10)
# The statuses of a specimen that was never given: they carry no results (docs/rules.md 3).
NOT_SUBMITTED = frozenset({SpecimenStatus.MISSED, SpecimenStatus.EXCUSED, SpecimenStatus.REFUSED})
ACCESSION_LENGTH = 64  # Specimen.accession


@dataclass(frozen=True)
class SpecimenInput:
    """What staff or a lab sends about one specimen (docs/api.md POST /patients/{id}/specimens)."""

    collected_at: datetime
    status: SpecimenStatus
    results: Mapping[str, AnalyteResult] = field(default_factory=dict)
    validity: Validity | None = None
    temperature_ok: bool | None = None
    observed: bool | None = None
    method: TestMethod | None = None
    note: str = ""
    # Staff confirm that an analyte of the target's set was not tested: the specimen then cannot count (neutral).
    confirm_untested: bool = False
    # The scheduled visit this specimen fulfils; without it, the open test visit of the same clinic date is taken.
    visit_id: int | None = None
    # The specimen or requisition number the cup carries to the lab, unique per patient (docs/api.md Lab results).
    accession: str | None = None


@dataclass(frozen=True)
class Recorded:
    specimen: Specimen
    outcomes: dict[str, str]
    awards: list[LedgerEntry]
    adjustments: list[LedgerEntry]
    is_duplicate: bool = False


def without_results_if_none(data: SpecimenInput) -> SpecimenInput:
    """A status without results drops the results instead of refusing them, where they were not sent on purpose: a
    form's result radios cannot be cleared without JavaScript, and a correction to missed inherits the record's
    results. Results an API client sends with such a status are still refused (check_input)."""
    if data.status in NOT_SUBMITTED and (data.results or data.confirm_untested):
        return replace(data, results={}, confirm_untested=False)
    return data


def check_input(data: SpecimenInput, analytes_by_target: Mapping[str, frozenset[str]]) -> None:
    """The rules a specimen's facts must meet, whoever sends them (the desk, the API, a lab)."""
    fields: dict[str, str] = {}
    if data.collected_at > utcnow() + FUTURE_TOLERANCE:
        fields["collected_at"] = "The collection time is in the future."
    if data.status == SpecimenStatus.FINAL:
        if not data.results:
            fields["results"] = "A final specimen needs a result for each analyte tested."
        for target, analytes in analytes_by_target.items():
            missing = untested_analytes({k: str(v) for k, v in data.results.items()}, analytes)
            if missing and not data.confirm_untested:
                fields["results"] = (f"No result for {', '.join(sorted(missing))} (target {target}): the specimen "
                                     "cannot count. Enter every result, or confirm it was not tested.")
    elif data.status in NOT_SUBMITTED and data.results:
        fields["results"] = f"A {data.status} specimen has no results: leave them out."
    if data.status == SpecimenStatus.FINAL and data.validity is None:
        fields["validity"] = "Say whether the specimen was valid, dilute, adulterated, substituted or invalid."
    if len(data.note) > 2000:
        fields["note"] = "Keep the note under 2,000 characters."
    if data.accession is not None and not 0 < len(data.accession) <= ACCESSION_LENGTH:
        fields["accession"] = f"An accession has 1 to {ACCESSION_LENGTH} characters."
    if fields:
        raise ValidationFailed("The specimen was not recorded.", fields=fields)


def _snapshot(specimen: Specimen) -> dict[str, Any]:
    return {
        "collected_at": specimen.collected_at.isoformat(), "status": str(specimen.status),
        "results": {r.analyte: str(r.result) for r in specimen.results},
        "validity": str(specimen.validity) if specimen.validity else None,
        "temperature_ok": specimen.temperature_ok, "observed": specimen.is_observed,
        "method": str(specimen.method) if specimen.method else None, "note": specimen.note,
        **({"accession": specimen.accession} if specimen.accession else {}),
    }


def _apply(specimen: Specimen, data: SpecimenInput) -> None:
    specimen.collected_at = data.collected_at
    specimen.status = data.status
    specimen.validity = data.validity
    specimen.temperature_ok = data.temperature_ok
    specimen.is_observed = data.observed
    specimen.method = data.method
    specimen.note = data.note
    specimen.accession = data.accession
    current = {r.analyte: r for r in specimen.results}
    for analyte in set(current) - set(data.results):
        specimen.results.remove(current[analyte])
    for analyte, result in data.results.items():
        if analyte in current:
            current[analyte].result = AnalyteResult(result)
        else:
            specimen.results.append(SpecimenResult(analyte=analyte, result=AnalyteResult(result)))


def abstinence_analytes(program: Program) -> dict[str, frozenset[str]]:
    return {t.key: frozenset(t.analytes) for t in program.targets if t.kind == TargetKind.ABSTINENCE}


def record_specimen(patient: Patient, data: SpecimenInput, *, actor: User | None) -> Recorded:
    """Record a specimen and post its awards (and any adjustments a late entry causes) in one transaction.

    Recording the same specimen again (same time, same facts) is a retry: it returns the first record and posts
    nothing. Another specimen at the same time is refused as a duplicate. Everything is read and checked before the
    enrollment is locked (usecases.reevaluation.prepare / claim); if another write of the same enrollment commits in
    between, the recording starts again from the new state.
    """
    enrollment = enrollment_on(patient, data.collected_at)
    check_input(data, abstinence_analytes(enrollment.program))
    data = _excused_if_missed(data, enrollment.id)
    check_accession(patient.id, data.accession)
    for prepared in attempts(enrollment):
        existing = _specimen_at(prepared, data.collected_at)
        if existing is not None:
            return _replay_or_refuse(existing, data)
        visit_id = visit_for(enrollment.id, VisitKind.TEST, clinic_date(data.collected_at), visit_id=data.visit_id)
        if claim(prepared):
            return _write_specimen(patient, data, prepared, visit_id, actor)
    raise AssertionError("the last attempt holds the lock")  # pragma: no cover


def _specimen_at(prepared: Prepared, collected_at: datetime) -> Specimen | None:
    """The enrolment's specimen collected at that moment, if any: looked for in the history just read (the claim
    proves it is still the whole history, as it proved a statement's answer read before it), the object loaded only
    for the rare retry or duplicate."""
    found = next((s.id for s in prepared.history.rows.specimens if s.collected_at == collected_at), None)
    return None if found is None else db.session.get(Specimen, found)


def check_accession(patient_id: int, accession: str | None, specimen_id: int | None = None) -> None:
    """An accession names one specimen of a patient (the unique index refuses a second): refused by name here."""
    if accession is None:
        return
    taken = db.session.scalar(select(Specimen.id).where(Specimen.patient_id == patient_id,
                                                        Specimen.accession == accession, Specimen.id != specimen_id))
    if taken is not None:
        raise ValidationFailed("That accession is already in use.", fields={
            "accession": f"Accession {accession} is already on another specimen of this patient."})


def _excused_if_missed(data: SpecimenInput, enrollment_id: int) -> SpecimenInput:
    """A missed test on a day already excused is stored excused (core.excuses): the excuse wins in either order."""
    excused = EXCUSED_SPECIMEN.get(data.status)
    because = excused_because(enrollment_id, clinic_date(data.collected_at)) if excused else None
    if excused is None or because is None:
        return data
    return replace(data, status=excused, note=with_excuse(data.note, because))


def _write_specimen(patient: Patient, data: SpecimenInput, prepared: Prepared, visit_id: int | None,
                    actor: User | None) -> Recorded:
    """The writes of record_specimen, once the enrollment is claimed: nothing is read but what the inserts return."""
    enrollment = prepared.enrollment
    item = NewSpecimen(patient.id, enrollment.id, data, visit_id)
    # By plain INSERTs (no SAVEPOINT here can roll them back under the objects: see insert_specimen).
    specimen = insert_specimen(_columns(item, actor.id if actor else None), data.results)
    _first_rows([item], [specimen], actor)
    posted = reevaluate_and_refresh(enrollment, because=entered_late(data.collected_at), actor=actor,
                                    prepared=prepared, specimens=[specimen])
    outcomes = {key: str(found[0]) for key, found in specimen_outcomes(prepared.snapshot.rules, specimen).items()}
    commit_keeping_loaded()
    return _result(specimen, posted, outcomes)


def add_specimen(patient: Patient, enrollment: Enrollment, data: SpecimenInput, *, visit_id: int | None,
                 actor: User | None, reason: str = "recorded") -> Specimen:
    """A new specimen's rows (its first version, its audit row); the caller holds the enrollment's lock,
    re-evaluates and commits."""
    return add_specimens([NewSpecimen(patient.id, enrollment.id, data, visit_id, reason)], actor=actor)[0]


@dataclass(frozen=True)
class NewSpecimen:
    patient_id: int
    enrollment_id: int
    data: SpecimenInput
    visit_id: int | None
    reason: str = "recorded"  # the first version's


def add_specimens(new: Sequence[NewSpecimen], *, actor: User | None) -> list[Specimen]:
    """add_specimen for many (a lab's file): the specimens flushed together (so they have ids), then their first
    versions and audit rows added, all in the caller's transaction."""
    # actor None: the nightly day-closing job or a lab's listener, which the audit row names by its source ("cli").
    specimens = _flushed(new, actor.id if actor else None)
    _first_rows(new, specimens, actor)
    return specimens


def _first_rows(new: Sequence[NewSpecimen], specimens: Sequence[Specimen], actor: User | None) -> None:
    """New specimens' first versions and audit rows."""
    actor_id = actor.id if actor else None
    # The first versions by a plain INSERT (built once): no object of them is needed, and the flush that follows
    # then has one mapper fewer to sort and write.
    if specimens:
        db.session.execute(_FIRST_VERSION, [
            {"record_type": RecordType.SPECIMEN, "record_id": specimen.id, "version": 1, "data": _snapshot(specimen),
             "reason": item.reason, "changed_by_id": actor_id} for item, specimen in zip(new, specimens, strict=True)])
    created = [audit.values("specimen.create", user=actor, patient_id=item.patient_id, object_type="specimen",
                            object_id=specimen.id, detail={"status": str(item.data.status)})
               for item, specimen in zip(new, specimens, strict=True)]
    # Plain INSERTs, not objects for the flush to sort and write. One row (the desk's) is one INSERT
    # (core.chain.insert_audit): on SQLite it takes its place and link from the lane's head; on PostgreSQL it is
    # chained to the head this connection remembers of its own lane and written only if that head is still there,
    # which it is unless a transaction of this connection rolled back since, when the head is read and the row
    # written again. Taking the place first (chain.seal's UPDATE ... RETURNING) cost every desk entry a round trip
    # under the enrolment's lock for that rare case. Many rows (a lab's file): their places taken at once, then one
    # INSERT writes them.
    connection = db.session.connection()
    if len(created) == 1:
        chain.insert_audit(connection, created)
    elif created:
        chain.seal(connection, chain.AUDIT, created)
        connection.execute(_AUDIT, created)


def _flushed(new: Sequence[NewSpecimen], actor_id: int | None) -> list[Specimen]:
    """Specimens as objects, flushed together so that they have ids: a lab's, written in SAVEPOINTs, whose
    rollback must forget them (usecases.specimen_inserts says why the desk's one is not written so)."""
    specimens = []
    for item in new:
        specimen = Specimen(**_columns(item, actor_id))
        specimen.results = [SpecimenResult(analyte=analyte, result=AnalyteResult(result))
                            for analyte, result in item.data.results.items()]
        specimens.append(specimen)
    db.session.add_all(specimens)
    db.session.flush()
    return specimens


def _columns(item: NewSpecimen, actor_id: int | None) -> dict[str, Any]:
    """Every column of a new specimen's row but its id: the desk's plain INSERT and a lab's flushed objects both
    take them from here."""
    data = item.data
    return {"patient_id": item.patient_id, "enrollment_id": item.enrollment_id, "visit_id": item.visit_id,
            "collected_at": data.collected_at, "status": data.status, "validity": data.validity,
            "temperature_ok": data.temperature_ok, "is_observed": data.observed, "method": data.method,
            "note": data.note, "accession": data.accession, "version": 1, "recorded_by_id": actor_id,
            "created_at": now_default(), "updated_at": now_default()}


_FIRST_VERSION = insert(RecordVersion.__table__)
_AUDIT = insert(AuditEvent.__table__)


def entered_late(collected_at: datetime) -> str:
    """Why a new specimen moves what later ones earn (the adjustments' reason)."""
    return f"a specimen of {collected_at:%Y-%m-%d} was entered late"


def facts_key(data: SpecimenInput) -> tuple[object, ...]:
    """What makes two submissions the same specimen (the note may differ on a retry)."""
    return (data.collected_at, str(data.status), tuple(sorted((k, str(v)) for k, v in data.results.items())),
            data.validity and str(data.validity), data.temperature_ok, data.observed, data.method and str(data.method),
            data.accession)


def _replay_or_refuse(existing: Specimen, data: SpecimenInput) -> Recorded:
    db.session.rollback()  # release the lock: nothing is written either way
    if facts_key(input_of(existing)) != facts_key(data):
        raise Conflict("A specimen collected at this time is already recorded; correct it instead.",
                       code="duplicate")
    return Recorded(existing, _outcomes(existing), list(entries_for_event(EventType.SPECIMEN, existing.id)), [],
                    is_duplicate=True)


def _outcomes(specimen: Specimen) -> dict[str, str]:
    rules = rules_for(specimen.enrollment.program)
    return {key: str(found[0]) for key, found in specimen_outcomes(rules, specimen).items()}


def _result(specimen: Specimen, posted: list[LedgerEntry], outcomes: dict[str, str]) -> Recorded:
    mine = [e for e in posted if e.event_type == EventType.SPECIMEN and e.event_id == specimen.id]
    others = [e for e in posted if e not in mine]
    return Recorded(specimen, outcomes, mine, others)


def correct_specimen(specimen: Specimen, *, version: int, reason: str, changes: Mapping[str, Any],
                     actor: User | None) -> Recorded:
    """A new version of a specimen with who, when and why; the history is re-evaluated and differences posted."""
    recorded = apply_specimen_correction(specimen, version=version, reason=reason, changes=changes, actor=actor)
    commit_keeping_loaded()
    return recorded


def apply_specimen_correction(specimen: Specimen, *, version: int, reason: str, changes: Mapping[str, Any],
                              actor: User | None) -> Recorded:
    """correct_specimen without the commit, so that a preview (usecases.corrections) runs exactly this code."""
    if not reason.strip():
        raise ValidationFailed("Say why the specimen is corrected.", fields={"reason": "Give a reason."})
    enrollment = specimen.enrollment
    moved = changes.get("collected_at")
    if isinstance(moved, datetime) and moved != specimen.collected_at:
        _check_same_enrollment(specimen, moved)
    check_accession(specimen.patient_id, changes.get("accession", specimen.accession), specimen.id)
    for prepared in attempts(enrollment):
        db.session.refresh(specimen)
        data = replace(input_of(specimen), **changes)
        if "results" not in changes:  # the stored results go with a change to a status that has none
            data = without_results_if_none(data)
        check_input(data, abstinence_analytes(enrollment.program))
        if claim(prepared):
            break
    # Under the enrollment's lock: a correction that committed since the refresh would have failed the claim.
    claim_version(specimen, version, what="specimen")
    revise_specimen(specimen, data, reason=reason.strip(), actor=actor)
    posted = reevaluate_and_refresh(enrollment, because=reason.strip(), actor=actor, prepared=prepared,
                                    specimens=[specimen])
    outcomes = {key: str(found[0]) for key, found in specimen_outcomes(prepared.snapshot.rules, specimen).items()}
    return Recorded(specimen, outcomes, [], posted)


def revise_specimen(specimen: Specimen, data: SpecimenInput, *, reason: str, actor: User | None) -> None:
    """A corrected specimen's rows (its new version, its audit row), flushed; the caller claimed the specimen's
    version under the enrollment's lock, re-evaluates and commits."""
    _apply(specimen, data)
    specimen.updated_at = utcnow()
    db.session.add(RecordVersion(record_type=RecordType.SPECIMEN, record_id=specimen.id, version=specimen.version,
                                 data=_snapshot(specimen), reason=reason, changed_by_id=actor.id if actor else None))
    audit.record("specimen.correct", user=actor, patient_id=specimen.patient_id, object_type="specimen",
                 object_id=specimen.id, detail={"version": specimen.version, "reason": reason})


def _check_same_enrollment(specimen: Specimen, collected_at: datetime) -> None:
    """A corrected collection time stays in the specimen's enrolment: the check a new specimen passes (the enrolment
    covering its clinic date, core.enrollments.enrollment_on), so no result lands before the enrolment began."""
    if enrollment_on(specimen.enrollment.patient, collected_at).id != specimen.enrollment_id:
        raise ValidationFailed("The specimen was not corrected.", fields={
            "collected_at": "That time falls in another enrollment; record the specimen there instead."})


def input_of(specimen: Specimen) -> SpecimenInput:
    return SpecimenInput(
        collected_at=specimen.collected_at, status=specimen.status,
        results={r.analyte: r.result for r in specimen.results}, validity=specimen.validity,
        temperature_ok=specimen.temperature_ok, observed=specimen.is_observed, method=specimen.method,
        note=specimen.note, accession=specimen.accession,
    )
