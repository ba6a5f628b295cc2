"""Applying lab results (usecases/lab_results.receive), through each of the three formats: a new accession creates a
specimen, a pending one is completed, a changed final result is a correction naming the lab, a withdrawal goes back
to what the desk recorded, the same content again is unchanged, and what cannot be applied is held with its reason."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from labs.lab_bodies import FORMATS, NEGATIVE, POSITIVE_COCAINE, body, sample

from factories import specimen

pytestmark = pytest.mark.time_machine(datetime(2026, 12, 1, 18, tzinfo=UTC), tick=False)
COLLECTED = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)


def send(lab, data: bytes, fmt: str):
    from cm_tracker.extensions import db
    from cm_tracker.models import LabFormat, User
    from cm_tracker.services.usecases.lab_results import receive

    return receive(data, LabFormat(fmt), sender=db.session.get(User, lab.lab_user_id), source="test")


def at_desk(lab, code: str = "N", **overrides) -> int:
    """A cup recorded at the desk with the accession the lab will name (point of care unless said otherwise)."""
    from cm_tracker.extensions import db
    from cm_tracker.models import Patient, TestMethod, User
    from cm_tracker.services.usecases.specimens import record_specimen

    overrides = {"method": TestMethod.POC, "collected_at": COLLECTED, "accession": "ACC-1001", **overrides}
    data = specimen(code, **overrides)
    return record_specimen(db.session.get(Patient, lab.clinic.patient_id), data,
                           actor=db.session.get(User, lab.staff_id)).specimen.id


def points(lab) -> int:
    from sqlalchemy import func, select

    from cm_tracker.extensions import db
    from cm_tracker.models import LedgerEntry

    return db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.points), 0)).where(
        LedgerEntry.patient_id == lab.clinic.patient_id))


def the_specimen(specimen_id: int):
    from cm_tracker.extensions import db
    from cm_tracker.models import Specimen

    db.session.expire_all()
    return db.session.get(Specimen, specimen_id)


def results_of(specimen) -> dict[str, str]:
    return {r.analyte: str(r.result) for r in specimen.results}


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_new_accession_creates_a_lab_specimen_with_a_result_per_analyte(lab, fmt: str) -> None:
    done = send(lab, sample(fmt), fmt)
    [first] = [r for r in done.results if r.accession == "ACC-1001"]
    assert (str(first.action), first.patient_id, first.outcomes) == ("created", lab.clinic.patient_id,
                                                                     {"stimulants": "failure"})
    made = the_specimen(first.specimen_id)
    assert (str(made.method), str(made.status), str(made.validity), made.accession, made.collected_at) == (
        "lab", "final", "valid", "ACC-1001", COLLECTED)
    assert results_of(made) == {"cocaine": "positive", "methamphetamine": "negative"}
    assert done.ignored == (1 if fmt == "fhir" else 0)  # the bundle's DiagnosticReport


def _one(done):
    [result] = done.results
    return result


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_pending_specimen_of_that_accession_is_completed_by_the_final_result(lab, fmt: str) -> None:
    from cm_tracker.extensions import db
    from cm_tracker.models import Patient, SpecimenStatus, TestMethod, User
    from cm_tracker.services.usecases.specimens import SpecimenInput, record_specimen

    pending = record_specimen(db.session.get(Patient, lab.clinic.patient_id), SpecimenInput(
        collected_at=COLLECTED, status=SpecimenStatus.PENDING, method=TestMethod.LAB, accession="ACC-1001"),
        actor=db.session.get(User, lab.staff_id)).specimen.id
    result = _one(send(lab, body(fmt, NEGATIVE), fmt))
    assert (str(result.action), result.specimen_id, result.outcomes) == ("completed", pending,
                                                                         {"stimulants": "success"})
    # The pending specimen's entry (0 points) is adjusted to what the final result earns.
    assert ([e.points for e in result.awards], [e.points for e in result.adjustments]) == ([], [10])
    done = the_specimen(pending)
    assert (str(done.status), results_of(done), done.version) == (
        "final", {"cocaine": "negative", "methamphetamine": "negative"}, 2)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_preliminary_result_creates_a_pending_specimen_that_earns_nothing_yet(lab, fmt: str) -> None:
    result = _one(send(lab, body(fmt, NEGATIVE, status="preliminary"), fmt))
    assert (str(result.action), result.outcomes) == ("created", {"stimulants": "neutral"})
    assert [e.points for e in result.awards] == [0]
    assert str(the_specimen(result.specimen_id).status) == "pending"
    final = _one(send(lab, body(fmt, NEGATIVE), fmt))
    assert (str(final.action), [e.points for e in final.adjustments], points(lab)) == ("completed", [10], 10)


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_lab_correcting_its_own_result_is_a_correction_naming_the_lab_and_the_accession(lab, fmt: str) -> None:
    from cm_tracker.extensions import db
    from cm_tracker.models import RecordVersion

    first = _one(send(lab, body(fmt, NEGATIVE), fmt))
    assert [e.points for e in first.awards] == [10]
    again = _one(send(lab, body(fmt, POSITIVE_COCAINE, status="corrected"), fmt))
    assert (str(again.action), again.specimen_id, again.outcomes) == ("corrected", first.specimen_id,
                                                                      {"stimulants": "failure"})
    assert [e.points for e in again.adjustments] == [-10] and points(lab) == 0
    lab_name = "ACME LABS" if fmt == "hl7v2" else "Acme integration"
    reason = f"Lab result from {lab_name}, accession ACC-1001"
    assert again.adjustments[0].reason.startswith(f"Correction ({reason}): ")
    versions = db.session.query(RecordVersion).filter_by(record_id=first.specimen_id).order_by("version").all()
    assert [(v.version, v.reason) for v in versions] == [(1, reason), (2, reason)]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_withdrawn_result_of_a_specimen_the_lab_created_leaves_it_pending_and_neutral(lab, fmt: str) -> None:
    first = _one(send(lab, body(fmt, NEGATIVE), fmt))
    gone = _one(send(lab, body(fmt, NEGATIVE, status="cancelled"), fmt))
    assert (str(gone.action), gone.outcomes, [e.points for e in gone.adjustments]) == (
        "withdrawn", {"stimulants": "neutral"}, [-10])
    withdrawn = the_specimen(first.specimen_id)
    assert (str(withdrawn.status), results_of(withdrawn), points(lab)) == ("pending", {}, 0)
    assert gone.adjustments[0].reason.startswith("Correction (Lab result withdrawn by ")


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_withdrawn_result_of_a_desk_cup_goes_back_to_what_the_desk_recorded(lab, fmt: str) -> None:
    cup = at_desk(lab, "N")
    assert _one(send(lab, body(fmt, POSITIVE_COCAINE), fmt)).action == "corrected"
    assert points(lab) == 0
    gone = _one(send(lab, body(fmt, POSITIVE_COCAINE, status="cancelled"), fmt))
    assert (str(gone.action), gone.outcomes, [e.points for e in gone.adjustments]) == (
        "withdrawn", {"stimulants": "success"}, [10])
    back = the_specimen(cup)
    assert (str(back.method), results_of(back), back.version, points(lab)) == (
        "poc", {"cocaine": "negative", "methamphetamine": "negative"}, 3, 10)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_withdrawal_of_a_result_never_applied_changes_nothing(lab, fmt: str) -> None:
    gone = _one(send(lab, body(fmt, NEGATIVE, status="cancelled"), fmt))
    assert (str(gone.action), gone.specimen_id) == ("unchanged", None)
    assert "never applied" in gone.reason


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_lab_confirming_the_desk_cup_negative_changes_no_points(lab, fmt: str) -> None:
    cup = at_desk(lab, "N")
    result = _one(send(lab, body(fmt, NEGATIVE), fmt))
    # The result is now the lab's (a new version), and the cup's award stands.
    assert (str(result.action), result.adjustments, points(lab)) == ("corrected", [], 10)
    assert str(the_specimen(cup).method) == "lab"


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_preliminary_result_leaves_a_final_desk_cup_as_it_is(lab, fmt: str) -> None:
    cup = at_desk(lab, "N")
    result = _one(send(lab, body(fmt, POSITIVE_COCAINE, status="preliminary"), fmt))
    assert (str(result.action), result.specimen_id, points(lab)) == ("unchanged", cup, 10)
    assert result.reason == "A preliminary result leaves the final result recorded as it is."
    assert the_specimen(cup).version == 1


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_clinic_code_for_a_programme_targets_analyte_applies_its_result_to_that_analyte(lab, fmt: str) -> None:
    """The codes page offers the analytes programme targets name (a preset's "alcohol"), and the map applies them."""
    from cm_tracker.extensions import db
    from cm_tracker.models import Program, ProgramTarget, ScheduleVersion, Specimen, TargetKind, User
    from cm_tracker.services.usecases.lab_codes import add_code

    alcohol = ProgramTarget(key="alcohol", label="alcohol", kind=TargetKind.ABSTINENCE, analytes=["alcohol"],
                            position=9)
    alcohol.schedule_versions.append(ScheduleVersion(version=1, effective_on=COLLECTED.date(), schedule={
        "kind": "escalating", "start": 10, "step": 5, "bonus_every": 3, "bonus": 40}))
    program = db.session.get(Program, lab.clinic.program_id)
    program.targets.append(alcohol)
    db.session.commit()
    add_code("96633-3", "alcohol", "Acme ethyl glucuronide", actor=db.session.get(User, lab.staff_id))
    [result] = send(lab, body(fmt, [*NEGATIVE, ("96633-3", "POS")]), fmt).results
    assert (str(result.action), result.outcomes["alcohol"]) == ("created", "failure")
    specimen = db.session.get(Specimen, result.specimen_id)
    assert {r.analyte: str(r.result) for r in specimen.results} == {
        "alcohol": "positive", "cocaine": "negative", "methamphetamine": "negative"}
