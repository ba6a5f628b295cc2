"""Staff's review of held lab results (usecases/lab_review.py): match to a patient, apply again once the code is in
the map, dismiss with a reason; each audited, and a result no longer waiting is refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cm_tracker.labs.observations import LabParseError
from labs.lab_bodies import METH, NEGATIVE, body
from labs.test_lab_apply import send

pytestmark = pytest.mark.time_machine(datetime(2026, 12, 1, 18, tzinfo=UTC), tick=False)


def _held(lab, data: bytes, fmt: str = "hl7v2"):
    from cm_tracker.extensions import db
    from cm_tracker.models import LabResult

    [result] = send(lab, data, fmt).results
    assert str(result.action) == "held"
    return db.session.get(LabResult, result.held_id)


def _staff(lab):
    from cm_tracker.extensions import db
    from cm_tracker.models import User

    return db.session.get(User, lab.staff_id)


def _audited(action: str) -> list[dict]:
    from cm_tracker.extensions import db
    from cm_tracker.models import AuditEvent

    return [e.detail for e in db.session.query(AuditEvent).filter_by(action=action)]


def test_matching_a_result_of_an_unknown_record_number_applies_it_to_that_patient(lab) -> None:
    from cm_tracker.extensions import db
    from cm_tracker.models import LabResult, Patient
    from cm_tracker.services.usecases.lab_review import match_to_patient

    held = _held(lab, body("hl7v2", NEGATIVE, record_number="MRN-01"))
    outcome = match_to_patient(held, db.session.get(Patient, lab.clinic.patient_id), actor=_staff(lab))
    assert (str(outcome.action), outcome.patient_id, [e.points for e in outcome.awards]) == (
        "created", lab.clinic.patient_id, [10])
    db.session.expire_all()
    held = db.session.get(LabResult, held.id)
    applied = db.session.get(LabResult, held.resolved_by_result_id)
    assert (str(held.review_status), held.reviewed_by_id, held.reviewed_at) == (
        "matched", lab.staff_id, datetime(2026, 12, 1, 18, tzinfo=UTC))
    assert (str(applied.action), applied.specimen_id, applied.patient_id, applied.review_status) == (
        "created", outcome.specimen_id, lab.clinic.patient_id, None)
    assert _audited("lab.match") == [{"accession": "ACC-1001", "action": "created", "result_id": applied.id}]


def test_applying_again_after_the_code_was_added_to_the_map_applies_it(lab) -> None:
    from cm_tracker.extensions import db
    from cm_tracker.models import LoincCode, Specimen
    from cm_tracker.services.usecases.lab_review import apply_again

    held = _held(lab, body("csv", [(METH, "NEG"), ("99999-9", "NEG")]), "csv")
    db.session.add(LoincCode(code="99999-9", analytes=["cocaine"]))
    db.session.commit()
    outcome = apply_again(held, actor=_staff(lab))
    assert (str(outcome.action), outcome.outcomes) == ("created", {"stimulants": "success"})
    made = db.session.get(Specimen, outcome.specimen_id)
    assert {r.analyte: str(r.result) for r in made.results} == {"cocaine": "negative", "methamphetamine": "negative"}


def test_applying_again_what_still_cannot_apply_keeps_it_waiting_with_the_new_reason(lab) -> None:
    from cm_tracker.extensions import db
    from cm_tracker.models import LabResult, Specimen
    from cm_tracker.services.usecases.lab_review import apply_again

    held = _held(lab, body("hl7v2", NEGATIVE, record_number="MRN-404"))
    held.reason = "an older reason"
    db.session.commit()
    outcome = apply_again(held, actor=_staff(lab))
    assert (str(outcome.action), outcome.held_id) == ("held", held.id)
    db.session.expire_all()
    held = db.session.get(LabResult, held.id)
    assert (str(held.review_status), held.reason, held.resolved_by_result_id) == (
        "waiting", "Unknown record number 'MRN-404': no patient has it.", None)
    assert db.session.query(LabResult).count() == 1 and db.session.query(Specimen).count() == 0


def test_dismissing_needs_a_reason_and_keeps_it(lab) -> None:
    from cm_tracker.extensions import db
    from cm_tracker.models import LabResult
    from cm_tracker.services.core.errors import ValidationFailed
    from cm_tracker.services.usecases.lab_review import dismiss

    held = _held(lab, body("hl7v2", NEGATIVE, record_number="MRN-404"))
    with pytest.raises(ValidationFailed) as refused:
        dismiss(held, "  ", actor=_staff(lab))
    assert refused.value.fields == {"reason": "Give a reason."}
    dismiss(held, "Not our patient: sent to the wrong clinic", actor=_staff(lab))
    db.session.expire_all()
    held = db.session.get(LabResult, held.id)
    assert (str(held.review_status), held.review_note, held.reviewed_by_id) == (
        "dismissed", "Not our patient: sent to the wrong clinic", lab.staff_id)
    assert _audited("lab.dismiss") == [{"accession": "ACC-1001",
                                        "reason": "Not our patient: sent to the wrong clinic"}]


def test_a_result_no_longer_waiting_is_refused(lab) -> None:
    from cm_tracker.services.core.errors import Conflict
    from cm_tracker.services.usecases.lab_review import apply_again, dismiss

    held = _held(lab, body("hl7v2", NEGATIVE, record_number="MRN-404"))
    dismiss(held, "wrong clinic", actor=_staff(lab))
    with pytest.raises(Conflict):
        dismiss(held, "again", actor=_staff(lab))
    with pytest.raises(Conflict):
        apply_again(held, actor=_staff(lab))


def test_a_csv_row_that_could_not_be_read_cannot_be_applied_only_dismissed(lab) -> None:
    from cm_tracker.services.core.errors import Conflict
    from cm_tracker.services.usecases.lab_review import apply_again

    held = _held(lab, b"record_number,accession,collected_at,loinc,result,status\n"
                      b"MRN-001,ACC-1001,yesterday,19554-5,negative,final\n", "csv")
    with pytest.raises(Conflict) as refused:
        apply_again(held, actor=_staff(lab))
    assert refused.value.code == "unreadable"


def test_a_result_no_longer_waiting_is_refused_before_its_body_is_read_again(lab, monkeypatch) -> None:
    from cm_tracker.extensions import db
    from cm_tracker.models import Patient
    from cm_tracker.services.core.errors import Conflict
    from cm_tracker.services.usecases import lab_review

    held = _held(lab, body("hl7v2", NEGATIVE, record_number="MRN-404"))
    lab_review.dismiss(held, "wrong clinic", actor=_staff(lab))
    monkeypatch.setattr(lab_review, "read_again", lambda *_: pytest.fail("the body was read again"))
    for attempt in (lambda: lab_review.apply_again(held, actor=_staff(lab)),
                    lambda: lab_review.match_to_patient(held, db.session.get(Patient, lab.clinic.patient_id),
                                                        actor=_staff(lab))):
        with pytest.raises(Conflict) as refused:
            attempt()
        assert refused.value.code == "not_waiting"


@pytest.mark.parametrize("failure", [LabParseError("line 1", "garbled"), IndexError("a reader's bug")],
                         ids=["unreadable", "reader failing"])
def test_a_stored_body_that_no_longer_reads_is_a_conflict_and_stays_waiting(lab, monkeypatch, failure) -> None:
    """A body held once may not read again (a reader changed since): staff are told, the result keeps waiting."""
    from cm_tracker.extensions import db
    from cm_tracker.models import LabResult, Patient
    from cm_tracker.services.core.errors import Conflict
    from cm_tracker.services.usecases import lab_results
    from cm_tracker.services.usecases.lab_review import apply_again, match_to_patient

    held = _held(lab, body("hl7v2", NEGATIVE, record_number="MRN-404"))

    def fails(text: str) -> list[str]:
        raise failure

    monkeypatch.setattr(lab_results, "split_messages", fails)
    for attempt in (lambda: apply_again(held, actor=_staff(lab)),
                    lambda: match_to_patient(held, db.session.get(Patient, lab.clinic.patient_id),
                                             actor=_staff(lab))):
        with pytest.raises(Conflict) as refused:
            attempt()
        assert refused.value.code == "unreadable" and "cannot be read again (" in refused.value.message
    db.session.expire_all()
    assert str(db.session.get(LabResult, held.id).review_status) == "waiting"
