"""What a lab's message cannot apply is held for review with a plain reason, and the rest of the message is applied;
the same body again writes nothing; an unreadable body is kept, refused, and applies nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from labs.lab_bodies import FORMATS, METH, NEGATIVE, POSITIVE_COCAINE, body, sample
from labs.test_lab_apply import COLLECTED, at_desk, send

pytestmark = pytest.mark.time_machine(datetime(2026, 12, 1, 18, tzinfo=UTC), tick=False)


def written() -> dict[str, int]:
    """How many rows of what a result writes exist."""
    from sqlalchemy import func, select

    from cm_tracker.extensions import db
    from cm_tracker.models import (
        AuditEvent,
        Enrollment,
        EventOutcome,
        LedgerEntry,
        RecordVersion,
        Specimen,
        SpecimenResult,
    )

    counts = {model.__name__: db.session.scalar(select(func.count()).select_from(model)) for model in (
        Specimen, SpecimenResult, RecordVersion, LedgerEntry, EventOutcome, AuditEvent)}
    return {**counts, "enrollment versions": db.session.scalar(select(func.sum(Enrollment.version)))}


def held_row(result_id: int):
    from cm_tracker.extensions import db
    from cm_tracker.models import LabResult

    return db.session.get(LabResult, result_id)


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_same_body_again_is_unchanged_and_writes_nothing(lab, fmt: str) -> None:
    first = send(lab, body(fmt, POSITIVE_COCAINE), fmt)
    before = written()
    again = send(lab, body(fmt, POSITIVE_COCAINE), fmt)
    assert [(r.action, r.specimen_id) for r in again.results] == [("unchanged", first.results[0].specimen_id)]
    # Only the message's own audit row ("lab.receive") is new.
    assert written() == {**before, "AuditEvent": before["AuditEvent"] + 1}


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_same_body_twice_stores_it_once_and_each_arrival(lab, fmt: str) -> None:
    from cm_tracker.extensions import db
    from cm_tracker.models import LabBody, LabMessage

    ids = [send(lab, sample(fmt), fmt).message_id for _ in range(2)]
    messages = [db.session.get(LabMessage, i) for i in ids]
    assert len({m.body_id for m in messages}) == 1 and db.session.query(LabBody).count() == 1
    assert db.session.get(LabBody, messages[0].body_id).body == sample(fmt)


@pytest.mark.parametrize(("fmt", "junk", "where"), [
    ("csv", b"patient,when\nMRN-001,2026-11-30\n", "line 1"),
    ("hl7v2", b"PID|1||MRN-001\r", "line 1"),
    ("fhir", b'{"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Observation"}}]}', "entry 1"),
])
def test_a_body_that_cannot_be_read_is_kept_refused_and_applies_nothing(lab, fmt: str, junk: bytes,
                                                                        where: str) -> None:
    from cm_tracker.extensions import db
    from cm_tracker.labs.observations import LabParseError
    from cm_tracker.models import LabBody, LabMessage, LabResult

    before = written()
    with pytest.raises(LabParseError) as raised:
        send(lab, junk, fmt)
    assert raised.value.where.startswith(where)
    [message] = db.session.query(LabMessage).all()
    assert (str(message.status), message.error) == ("refused", str(raised.value))
    assert db.session.get(LabBody, message.body_id).body == junk
    assert db.session.query(LabResult).count() == 0
    assert written() == {**before, "AuditEvent": before["AuditEvent"] + 1}


def test_a_csv_row_with_a_bad_date_is_held_with_its_reason_and_the_other_rows_applied(lab) -> None:
    csv = (b"record_number,accession,collected_at,loinc,result,status\n"
           b"MRN-001,ACC-1001,2026-11-30T08:30:00-08:00,19554-5,negative,final\n"
           b"MRN-001,ACC-1001,2026-11-30T08:30:00-08:00,43984-4,negative,final\n"
           b"MRN-001,ACC-1002,30/11/2026,19554-5,negative,final\n")
    done = send(lab, csv, "csv")
    by = {r.accession: r for r in done.results}
    assert (str(by["ACC-1001"].action), done.held) == ("created", 1)
    held = by["ACC-1002"]
    assert (str(held.action), held.specimen_id) == ("held", None)
    assert held.reason == "line 4: collected_at is not a date and time: '30/11/2026'"
    row = held_row(held.held_id)
    assert (str(row.review_status), row.location, row.record_number) == ("waiting", "line 4", "MRN-001")


def test_the_sample_csv_holds_the_unreadable_row_and_the_unknown_patient_and_applies_the_rest(lab) -> None:
    from cm_tracker.extensions import db
    from cm_tracker.models import LabMessage

    done = send(lab, sample("csv"), "csv")
    assert [(r.accession, str(r.action)) for r in done.results] == [
        ("ACC-1002", "held"), ("ACC-1001", "created"), ("ACC-1003", "held")]
    message = db.session.get(LabMessage, done.message_id)
    assert (str(message.status), message.counts) == ("held", {"held": 2, "created": 1})


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("change", "reason"), [
    ({"record_number": "MRN-404"}, "Unknown record number 'MRN-404': no patient has it."),
    ({"results": [(METH, "NEG"), ("99999-9", "NEG")]}, "Unknown code 99999-9"),
    ({"when": "2025-11-30T08:30:00-08:00"}, "Collected on 2025-11-30, outside any enrollment of the patient."),
])
def test_what_cannot_be_applied_is_held_with_a_plain_reason(lab, fmt: str, change: dict, reason: str) -> None:
    change = dict(change)
    results = change.pop("results", NEGATIVE)
    [held] = send(lab, body(fmt, results, **change), fmt).results
    assert str(held.action) == "held" and held.reason.startswith(reason)
    row = held_row(held.held_id)
    assert str(row.review_status) == "waiting"
    # A held result of a known record number names its patient (the queue shows them; their counselor sees it).
    assert (row.patient_id is None) == ("record_number" in change)
    assert held.patient_id == row.patient_id


def test_an_accession_of_another_patients_specimen_is_held(lab) -> None:
    from cm_tracker.extensions import db
    from cm_tracker.models import Patient, User
    from cm_tracker.services.usecases.specimens import record_specimen

    from factories import specimen
    from worlds.clinic import another_patient

    other, _ = another_patient(lab.clinic)
    record_specimen(db.session.get(Patient, other), specimen("N", collected_at=COLLECTED, accession="ACC-1001"),
                    actor=db.session.get(User, lab.staff_id))
    [held] = send(lab, body("hl7v2", NEGATIVE), "hl7v2").results
    assert held.reason == "Accession ACC-1001 belongs to a specimen of another patient."


def test_a_specimen_at_that_time_recorded_without_the_accession_is_held_not_doubled(lab) -> None:
    from cm_tracker.extensions import db
    from cm_tracker.models import Specimen

    at_desk(lab, "N", accession=None)
    [held] = send(lab, body("csv", POSITIVE_COCAINE), "csv").results
    assert str(held.action) == "held" and "already recorded without this accession" in held.reason
    assert db.session.query(Specimen).count() == 1


def test_rows_of_one_accession_that_disagree_are_held(lab) -> None:
    csv = (b"record_number,accession,collected_at,loinc,result,status\n"
           b"MRN-001,ACC-1001,2026-11-30T08:30:00-08:00,19554-5,negative,final\n"
           b"MRN-001,ACC-1001,2026-11-29T08:30:00-08:00,43984-4,negative,final\n")
    [held] = send(lab, csv, "csv").results
    assert held.reason == "The lab's rows for accession ACC-1001 disagree: line 3 gives another collection time."


def test_a_result_the_specimen_rules_refuse_is_held_with_their_message_and_the_others_applied(lab) -> None:
    from cm_tracker.extensions import db
    from cm_tracker.models import Specimen

    csv = (b"record_number,accession,collected_at,loinc,result,status\n"
           b"MRN-001,ACC-1001,2026-11-30T08:30:00-08:00,43984-4,negative,final\n"  # no methamphetamine result
           b"MRN-001,ACC-1002,2026-11-26T08:30:00-08:00,19554-5,negative,final\n"
           b"MRN-001,ACC-1002,2026-11-26T08:30:00-08:00,43984-4,negative,final\n")
    held, applied = send(lab, csv, "csv").results
    assert (str(held.action), str(applied.action)) == ("held", "created")
    assert held.reason.startswith("The specimen was not recorded. results: No result for methamphetamine")
    assert [s.accession for s in db.session.query(Specimen)] == ["ACC-1002"]


def test_a_desk_accession_already_used_is_refused_by_field_not_by_the_database(lab) -> None:
    from cm_tracker.services.core.errors import ValidationFailed

    at_desk(lab, "N")
    with pytest.raises(ValidationFailed) as refused:
        at_desk(lab, "N", collected_at=datetime(2026, 11, 26, 17, tzinfo=UTC))
    assert refused.value.fields == {"accession": "Accession ACC-1001 is already on another specimen of this patient."}


def test_a_held_result_is_audited_and_the_message_once_with_its_counts(lab) -> None:
    from cm_tracker.extensions import db
    from cm_tracker.models import AuditEvent

    done = send(lab, sample("csv"), "csv")
    rows = db.session.query(AuditEvent).filter(AuditEvent.action.like("lab.%")).order_by(AuditEvent.id).all()
    assert [(r.action, r.object_id) for r in rows] == [
        ("lab.hold", str(done.results[0].held_id)), ("lab.hold", str(done.results[2].held_id)),
        ("lab.receive", str(done.message_id))]
    assert rows[-1].detail == {"format": "csv", "source": "test", "held": 2, "created": 1}
    assert db.session.query(AuditEvent).filter_by(action="specimen.create").count() == 1


def test_a_new_specimen_without_a_collection_time_is_held(lab) -> None:
    er7 = (b"MSH|^~\\&|REFLAB|ACME LABS|CMTRACKER|CLINIC|20261130143000||ORU^R01|M1|P|2.5.1\r"
           b"PID|1||MRN-001\rOBR|1|REQ-1|ACC-1001|DAU\rOBX|1|ST|19554-5^Meth^LN||NEG||||||F\r"
           b"OBX|2|ST|43984-4^BZE^LN||NEG||||||F")
    [held] = send(lab, er7, "hl7v2").results
    assert held.reason == "The result has no collection time, which a new specimen needs."


def test_a_write_refused_in_the_batch_holds_that_accession_alone_and_applies_the_others(lab, monkeypatch) -> None:
    """Another write winning the specimen's claim (simulated) sends the message down the one-accession-at-a-time
    path: the refused correction leaves nothing behind, the new specimen is written."""
    from cm_tracker.extensions import db
    from cm_tracker.models import Specimen
    from cm_tracker.services.usecases import lab_apply

    cup = at_desk(lab, "N")
    monkeypatch.setattr(lab_apply, "try_claim", lambda *_args: False)
    csv = (b"record_number,accession,collected_at,loinc,result,status\n"
           b"MRN-001,ACC-1001,2026-11-30T08:30:00-08:00,19554-5,negative,final\n"
           b"MRN-001,ACC-1001,2026-11-30T08:30:00-08:00,43984-4,positive,final\n"
           b"MRN-001,ACC-1002,2026-11-26T08:30:00-08:00,19554-5,negative,final\n"
           b"MRN-001,ACC-1002,2026-11-26T08:30:00-08:00,43984-4,negative,final\n")
    held, created = send(lab, csv, "csv").results
    assert (str(held.action), held.reason) == (
        "held", "The specimen changed while the lab's result was applied: apply it again.")
    assert str(created.action) == "created" and created.outcomes == {"stimulants": "success"}
    db.session.expire_all()
    kept = db.session.get(Specimen, cup)
    assert (kept.version, str(kept.method), {r.analyte: str(r.result) for r in kept.results}) == (
        1, "poc", {"cocaine": "negative", "methamphetamine": "negative"})
    assert sorted(s.accession for s in db.session.query(Specimen)) == ["ACC-1001", "ACC-1002"]


@pytest.mark.parametrize(("junk", "fmt"), [
    (b'{"resourceType": "Observation", "status": "final", "identifier": [{"value": "A\\udc00\\u0000"}],'
     b' "code": {"coding": [{"system": "http://loinc.org", "code": "19554-5"}]},'
     b' "subject": {"identifier": {"value": "MRN\\u0000\\ud800"}}, "effectiveDateTime": "2026-11-30",'
     b' "valueString": "neg"}', "fhir"),
    (b"MSH|^~\\&|L|ACME\x00LABS|C|C|20261130||ORU^R01|1|P|2.5.1\rPID|1||MRN-\x00\rOBR|1||ACC\x00|X|||20261130\r"
     b"OBX|1|ST|19554-5^M^LN||NEG||||||F\r", "hl7v2"),
    (b'[{"resourceType": "Bundle"}]', "fhir"),
    (b'{"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Specimen", "collection": "x"}}]}', "fhir"),
    (b"[" * 100_000, "fhir"),
])
def test_junk_in_a_body_is_held_or_refused_never_an_error(lab, junk: bytes, fmt: str) -> None:
    from cm_tracker.labs.observations import LabParseError

    try:
        done = send(lab, junk, fmt)
    except LabParseError as refused:
        assert refused.where
        return
    assert all(str(r.action) == "held" and "\ufffd" in (r.record_number or "") for r in done.results)


def test_a_correction_written_in_the_batch_is_written_again_when_another_is_refused(lab, monkeypatch) -> None:
    """The batch rolled back for the second cup's lost claim: the first cup's correction is written again, whole."""
    from cm_tracker.extensions import db
    from cm_tracker.models import Specimen
    from cm_tracker.services.core import versions
    from cm_tracker.services.usecases import lab_apply

    first = at_desk(lab, "N")
    second = at_desk(lab, "N", accession="ACC-1002", collected_at=datetime(2026, 11, 26, 17, tzinfo=UTC))
    monkeypatch.setattr(lab_apply, "try_claim", lambda model, row_id, version: row_id != second and
                        versions.try_claim(model, row_id, version))
    csv = (b"record_number,accession,collected_at,loinc,result,status\n"
           b"MRN-001,ACC-1001,2026-11-30T08:30:00-08:00,19554-5,negative,final\n"
           b"MRN-001,ACC-1001,2026-11-30T08:30:00-08:00,43984-4,positive,final\n"
           b"MRN-001,ACC-1002,2026-11-26T09:00:00-08:00,19554-5,negative,final\n"
           b"MRN-001,ACC-1002,2026-11-26T09:00:00-08:00,43984-4,positive,final\n")
    corrected, held = send(lab, csv, "csv").results
    assert (str(corrected.action), str(held.action)) == ("corrected", "held")
    db.session.expire_all()
    one, two = db.session.get(Specimen, first), db.session.get(Specimen, second)
    assert (one.version, str(one.method), {r.analyte: str(r.result) for r in one.results}) == (
        2, "lab", {"cocaine": "positive", "methamphetamine": "negative"})
    assert (two.version, str(two.method)) == (1, "poc")


def test_a_held_result_sent_again_is_not_queued_twice(lab) -> None:
    from cm_tracker.extensions import db
    from cm_tracker.models import LabResult

    first = send(lab, sample("csv"), "csv")
    again = send(lab, sample("csv"), "csv")
    assert [(r.accession, str(r.action)) for r in again.results] == [
        ("ACC-1002", "held"), ("ACC-1001", "unchanged"), ("ACC-1003", "held")]
    assert [r.held_id for r in again.results] == [r.held_id for r in first.results]
    assert again.held == 2 and again.results[0].reason == "The same result already waits for review since 2026-12-01."
    waiting = db.session.query(LabResult).filter_by(review_status="waiting").all()
    assert sorted(r.id for r in waiting) == sorted(r.held_id for r in first.results if r.held_id)


def test_a_held_result_sent_again_is_held_once_more_in_every_format(lab) -> None:
    """The sender is told the result waits for review (HL7: AE), with the row that waits, not that it was
    applied."""
    from cm_tracker.extensions import db
    from cm_tracker.models import LabMessage, LabResult

    unknown = [("99999-9", "POS")]
    for fmt in FORMATS:
        first = send(lab, body(fmt, unknown, accession=f"ACC-{fmt}"), fmt)
        again = send(lab, body(fmt, unknown, accession=f"ACC-{fmt}"), fmt)
        [held], [repeat] = first.results, again.results
        assert (str(repeat.action), repeat.held_id, repeat.specimen_id) == ("held", held.held_id, None)
        assert repeat.reason == "The same result already waits for review since 2026-12-01."
        assert str(db.session.get(LabMessage, again.message_id).status) == "held"
    assert db.session.query(LabResult).filter_by(review_status="waiting").count() == len(FORMATS)
