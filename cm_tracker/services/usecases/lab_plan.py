"""What each accession of a lab's message asks for (created, completed, corrected, withdrawn, unchanged or held),
decided from the database read in bulk; the enrolments it will write are locked before usecases/lab_apply.py writes.

The reads do not grow with the number of results but for the chunks of long IN lists: the patients by record
number, their enrolments, the specimens by accession (of any patient: an accession another patient's specimen carries
is held), the last content applied per accession, the versions of the specimens a result changes, then, with the
enrolments to be written locked (in id order), the specimens at the new ones' collection times.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from cm_tracker.extensions import db
from cm_tracker.labs.grouping import LabSpecimen
from cm_tracker.labs.observations import LabStatus, RowProblem
from cm_tracker.models import (
    Enrollment,
    LabAction,
    LabResult,
    Patient,
    Program,
    ProgramTarget,
    RecordType,
    RecordVersion,
    ReviewStatus,
    Specimen,
    SpecimenStatus,
)
from cm_tracker.services.core.clinic import clinic_date
from cm_tracker.services.core.enrollments import covering_among
from cm_tracker.services.core.ledger import lock_enrollments
from cm_tracker.services.usecases.lab_content import (
    changed_specimen,
    content_of,
    desk_before_lab,
    digest_of,
    new_specimen,
    problem_content,
    storable,
    why_held,
)
from cm_tracker.services.usecases.specimens import SpecimenInput, facts_key, input_of

CHANGES = (LabAction.COMPLETED, LabAction.CORRECTED, LabAction.WITHDRAWN)  # the actions that correct a specimen
CHUNK = 500  # values per IN list: well under SQLite's and PostgreSQL's limits on bound parameters
T = TypeVar("T")


@dataclass
class Plan:
    """One accession: the lab's content, what it will do and to what."""

    location: str
    accession: str
    record_number: str | None
    content: dict[str, Any]
    digest: str
    lab: LabSpecimen | None  # None: a CSV row that could not be read
    action: LabAction | None = None  # None until decided
    reason: str | None = None
    patient: Patient | None = None
    enrollment: Enrollment | None = None
    specimen: Specimen | None = None  # the specimen the result changes (None for a new one)
    data: SpecimenInput | None = None  # what is written
    waiting_id: int | None = None  # held: the same result sent before, which still waits for review

    def hold(self, reason: str) -> Plan:
        self.action, self.reason, self.data, self.waiting_id = LabAction.HELD, reason, None, None
        return self


def plan_of(lab: LabSpecimen) -> Plan:
    content = content_of(lab)
    lab.accession, lab.record_number = content["accession"], content["record_number"]
    return Plan(storable(lab.where), lab.accession, lab.record_number, content, digest_of(content), lab)


def problem_plan(problem: RowProblem) -> Plan:
    content = problem_content(problem)
    where = storable(problem.where)
    plan = Plan(where, content["accession"] or f"(no accession: {where})", content["record_number"], content,
                digest_of(content), None)
    return plan.hold(f"{where}: {content['problem']}")


def plan_all(plans: list[Plan], *, patient: Patient | None = None,
             lock: Callable[[Iterable[int]], None] = lock_enrollments) -> list[Plan]:
    """Decide every plan (in place) and lock the enrolments that will be written (`lock`: a message written in
    chunks locks once, usecases/lab_results.py); `patient` (staff matched a held result to a patient) stands for
    the record number.

    As at the desk, the changes are computed before the locks (docs/architecture.md, "Writes: compute, then lock"):
    a change is written only if its specimen's version is still the one read (lab_apply claims it), and a message
    that changes nothing (the same body again) locks nothing. New specimens are checked under the locks."""
    readable = [p for p in plans if p.lab is not None]
    open_ = [p for p in readable if _held_by_content(p)]
    # Every readable result is given its patient, a held one too: the queue names the patient, and the patient's
    # counselor sees it (permissions.lab_result_scope) and counts it on the caseload.
    _find_patients(readable, patient)
    open_ = [p for p in open_ if p.patient is not None]
    episodes = _episodes({p.patient.id for p in open_ if p.patient})
    accessions = _by_accession([p.accession for p in open_])
    for plan in open_:
        _place(plan, accessions, episodes)
    placed = [p for p in open_ if p.action is None]
    _decide_changes([p for p in placed if p.specimen is not None])
    new = [p for p in placed if p.specimen is None]
    lock([p.enrollment.id for p in placed if p.enrollment and (p in new or p.action in CHANGES)])
    taken = _at_times(new)
    for plan in new:
        _decide_new(plan, taken)
    _already_waiting([p for p in plans if p.action == LabAction.HELD])
    return plans


def _already_waiting(held: list[Plan]) -> None:
    """A held result sent again while the first still waits is held again, not queued twice: it names the row that
    waits (the sender is told it waits for review, not that it was applied)."""
    waiting = {(accession, digest): (row_id, since) for row_id, accession, digest, since in chunked_rows(
        {p.digest for p in held}, lambda part: select(
            LabResult.id, LabResult.accession, LabResult.content_digest, LabResult.created_at).where(
                LabResult.review_status == ReviewStatus.WAITING, LabResult.content_digest.in_(part))
        .order_by(LabResult.id.desc()))}
    for plan in held:
        found = waiting.get((plan.accession[:64], plan.digest))
        if found is not None:
            plan.waiting_id = found[0]
            plan.reason = f"The same result already waits for review since {clinic_date(found[1]):%Y-%m-%d}."


def _held_by_content(plan: Plan) -> bool:
    assert plan.lab is not None
    reason = why_held(plan.lab)
    if reason:
        plan.hold(reason)
    return reason is None


def _find_patients(plans: list[Plan], patient: Patient | None) -> None:
    numbers = {p.record_number for p in plans if p.record_number}
    found = {patient.record_number: patient} if patient else {
        p.record_number: p for p in _chunked(numbers, lambda part: select(Patient).where(
            Patient.record_number.in_(part)))}
    for plan in plans:
        plan.patient = patient or found.get(plan.record_number or "")
        if plan.patient is None and plan.action != LabAction.HELD:
            plan.hold(f"Unknown record number {plan.record_number!r}: no patient has it.")


def _episodes(patient_ids: set[int]) -> dict[int, list[Enrollment]]:
    """Every enrolment of these patients with its programme's rules (the evaluation reads them)."""
    found: dict[int, list[Enrollment]] = defaultdict(list)
    for enrollment in _chunked(patient_ids, lambda part: select(Enrollment).where(
            Enrollment.patient_id.in_(part)).options(joinedload(Enrollment.program).selectinload(
                Program.targets).selectinload(ProgramTarget.schedule_versions))):
        found[enrollment.patient_id].append(enrollment)
    return found


def _by_accession(accessions: Iterable[str]) -> dict[str, list[Specimen]]:
    found: dict[str, list[Specimen]] = defaultdict(list)
    for specimen in _chunked(set(accessions), lambda part: select(Specimen).where(Specimen.accession.in_(part))
                             .options(selectinload(Specimen.results))):
        found[specimen.accession or ""].append(specimen)
    return found


def _place(plan: Plan, accessions: dict[str, list[Specimen]], episodes: dict[int, list[Enrollment]]) -> None:
    """The patient's specimen of this accession and its enrolment, or the enrolment a new one falls in."""
    assert plan.patient is not None and plan.lab is not None
    carrying = accessions.get(plan.accession, [])
    mine = next((s for s in carrying if s.patient_id == plan.patient.id), None)
    if mine is None and carrying:
        plan.hold(f"Accession {plan.accession} belongs to a specimen of another patient.")
        return
    if mine is not None:
        plan.specimen, plan.enrollment = mine, mine.enrollment
        return
    if plan.lab.status == LabStatus.WITHDRAWN:
        plan.action, plan.reason = LabAction.UNCHANGED, "The lab withdrew a result that was never applied."
        return
    if plan.lab.collected_at is None:
        plan.hold("The result has no collection time, which a new specimen needs.")
        return
    plan.enrollment = covering_among(episodes.get(plan.patient.id, []), plan.lab.collected_at)
    if plan.enrollment is None:
        plan.hold(f"Collected on {clinic_date(plan.lab.collected_at):%Y-%m-%d}, outside any enrollment of the "
                  "patient.")


def _decide_changes(existing: list[Plan]) -> None:
    last = _last_digests(existing)
    for plan in existing:
        if plan.patient and last.get((plan.patient.id, plan.accession)) == plan.digest:
            plan.action, plan.reason = LabAction.UNCHANGED, "The same result as the lab sent before."
    changing = [p for p in existing if p.action is None]
    versions = _versions({p.specimen.id for p in changing if p.specimen})
    for plan in changing:
        assert plan.specimen is not None
        _decide_change(plan, versions.get(plan.specimen.id, []))


def _decide_new(plan: Plan, taken: dict[tuple[int, object], Specimen]) -> None:
    assert plan.lab is not None and plan.enrollment is not None
    there = taken.get((plan.enrollment.id, plan.lab.collected_at))
    if there is not None:
        plan.hold("A specimen collected at that time is already recorded without this accession: give the desk's "
                  "specimen the accession, or match the result at the desk.")
        return
    plan.action, plan.data = LabAction.CREATED, new_specimen(plan.lab)


def _decide_change(plan: Plan, versions: list[RecordVersion]) -> None:
    assert plan.lab is not None and plan.specimen is not None
    specimen = plan.specimen
    if specimen.status not in (SpecimenStatus.FINAL, SpecimenStatus.PENDING):
        plan.hold(f"The specimen of accession {plan.accession} is recorded as {specimen.status}, not given: "
                  "a lab result cannot be applied to it.")
        return
    data = changed_specimen(specimen, plan.lab, desk_before_lab(specimen, versions))
    if facts_key(data) == facts_key(input_of(specimen)):
        plan.action, plan.data = LabAction.UNCHANGED, None
        if plan.lab.status == LabStatus.PRELIMINARY and specimen.status == SpecimenStatus.FINAL:
            plan.reason = "A preliminary result leaves the final result recorded as it is."
        return
    plan.data = data
    if plan.lab.status == LabStatus.WITHDRAWN:
        plan.action = LabAction.WITHDRAWN
    elif specimen.status == SpecimenStatus.PENDING and data.status == SpecimenStatus.FINAL:
        plan.action = LabAction.COMPLETED
    else:
        plan.action = LabAction.CORRECTED


def _versions(ids: set[int]) -> dict[int, list[RecordVersion]]:
    found: dict[int, list[RecordVersion]] = defaultdict(list)
    for version in _chunked(ids, lambda part: select(RecordVersion).where(
            RecordVersion.record_type == RecordType.SPECIMEN, RecordVersion.record_id.in_(part))):
        found[version.record_id].append(version)
    return found


def _last_digests(plans: list[Plan]) -> dict[tuple[int, str], str]:
    """The content last applied per (patient, accession): the same again is unchanged."""
    last: dict[tuple[int, str], str] = {}
    ids = {p.specimen.id for p in plans if p.specimen}
    for patient_id, accession, digest in chunked_rows(ids, lambda part: select(
            LabResult.patient_id, LabResult.accession, LabResult.content_digest).where(
                LabResult.specimen_id.in_(part), LabResult.action != LabAction.HELD).order_by(LabResult.id)):
        last[(patient_id, accession)] = digest
    return last


def _at_times(plans: list[Plan]) -> dict[tuple[int, object], Specimen]:
    """Specimens already recorded at the collection times of the new ones, by (enrolment, time)."""
    ids = {p.enrollment.id for p in plans if p.enrollment}
    times = {p.lab.collected_at for p in plans if p.lab}
    at = _chunked(times, lambda part: select(Specimen).where(Specimen.collected_at.in_(part)))
    return {(s.enrollment_id, s.collected_at): s for s in at if s.enrollment_id in ids}


def _parts(values: Iterable[T]) -> Iterator[list[T]]:
    ordered = list(values)
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start:start + CHUNK]


def chunked_rows(values: Iterable[Any], query: Any, *, scalars: bool = False) -> Iterator[Any]:
    """The rows (or with `scalars` the first values) of `query(part)` for each part of `values` in turn."""
    for part in _parts(values):
        if scalars:
            yield from db.session.scalars(query(part))
        else:
            yield from (tuple(row) for row in db.session.execute(query(part)))


def _chunked(values: Iterable[Any], query: Any) -> Iterator[Any]:
    for part in _parts(values):
        yield from db.session.scalars(query(part)).unique()


