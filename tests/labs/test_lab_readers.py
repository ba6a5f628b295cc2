"""The three lab formats read into one shape (cm_tracker.labs): pure, no database, no clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from cm_tracker.engine.outcomes import Validity
from cm_tracker.labs.codes import DEFAULT_ANALYTE_CODES, Measure, validity_from_measures
from cm_tracker.labs.csvfile import read_csv
from cm_tracker.labs.fhir import read_fhir
from cm_tracker.labs.grouping import group
from cm_tracker.labs.hl7v2 import read_messages
from cm_tracker.labs.observations import LabParseError, LabStatus, RowProblem, result_of

DATA = Path(__file__).parent / "data"
ZONE = ZoneInfo("America/Los_Angeles")
COLLECTED = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)  # 08:30 in California


def test_hl7_oru_r01_becomes_one_specimen_with_a_result_per_analyte_and_its_measures() -> None:
    [message] = read_messages(DATA.joinpath("oru_r01.hl7").read_text(), ZONE)
    assert message.control_id == "ACME-000123"
    [specimen] = group(message.observations, DEFAULT_ANALYTE_CODES)
    assert (specimen.accession, specimen.record_number, specimen.collected_at) == ("ACC-1001", "MRN-001", COLLECTED)
    assert specimen.results == {"methamphetamine": "negative", "cocaine": "positive"}
    assert specimen.status == LabStatus.FINAL
    assert specimen.measures == {Measure.CREATININE: Decimal("85"), Measure.PH: Decimal("6.0"),
                                 Measure.SPECIFIC_GRAVITY: Decimal("1.015")}
    assert specimen.computed_validity == Validity.VALID
    assert specimen.unknown == [] and specimen.conflicts == []


def test_fhir_bundle_reads_the_patient_and_specimen_it_refers_to_and_counts_what_it_skips() -> None:
    read = read_fhir(DATA.joinpath("bundle.json").read_bytes(), ZONE)
    assert read.skipped == 1  # the DiagnosticReport
    [specimen] = group(read.observations, DEFAULT_ANALYTE_CODES)
    assert (specimen.accession, specimen.record_number, specimen.collected_at) == ("ACC-1001", "MRN-001", COLLECTED)
    assert specimen.results == {"methamphetamine": "negative", "cocaine": "positive"}
    assert specimen.measures == {Measure.CREATININE: Decimal("85")}


def test_csv_reads_rows_as_a_stream_and_holds_a_row_with_a_bad_date_with_its_reason() -> None:
    with DATA.joinpath("results.csv").open(newline="") as lines:
        read = list(read_csv(lines, ZONE))
    problems = [r for r in read if isinstance(r, RowProblem)]
    assert [(p.where, p.accession) for p in problems] == [("line 4", "ACC-1002")]
    assert "collected_at is not a date and time" in problems[0].reason
    specimens = group([r for r in read if not isinstance(r, RowProblem)], DEFAULT_ANALYTE_CODES)
    assert [s.accession for s in specimens] == ["ACC-1001", "ACC-1003"]
    assert specimens[0].results == {"methamphetamine": "negative", "cocaine": "positive"}
    assert specimens[0].measures[Measure.SPECIFIC_GRAVITY] == Decimal("1.015")
    assert specimens[1].status == LabStatus.PRELIMINARY
    # A bare date is midday at the clinic: it keeps its clinic date.
    assert specimens[1].collected_at == datetime(2026, 11, 30, 20, 0, tzinfo=UTC)


def test_a_combined_amphetamines_code_is_the_result_of_both_analytes() -> None:
    er7 = ("MSH|^~\\&|L|L|C|C|20261130||ORU^R01|1|P|2.5.1\rPID|1||MRN-9\rOBR|1||A-9|X|||20261130083000\r"
           "OBX|1|ST|76492-8^Amphetamines^LN||Detected||||||F")
    [specimen] = group(read_messages(er7, ZONE)[0].observations, DEFAULT_ANALYTE_CODES)
    assert specimen.results == {"amphetamine": "positive", "methamphetamine": "positive"}


def test_an_unknown_or_non_loinc_code_is_listed_for_review_never_guessed() -> None:
    er7 = ("MSH|^~\\&|L|L|C|C|20261130||ORU^R01|1|P|2.5.1\rPID|1||MRN-9\rOBR|1||A-9|X|||20261130083000\r"
           "OBX|1|ST|99999-9^Mystery^LN||NEG||||||F\rOBX|2|ST|METH^Meth local code^L||NEG||||||F")
    [specimen] = group(read_messages(er7, ZONE)[0].observations, DEFAULT_ANALYTE_CODES)
    assert specimen.results == {}
    assert specimen.unknown == ["99999-9 (Mystery)", "L:METH (Meth local code)"]


@pytest.mark.parametrize(("text", "where"), [
    ("PID|1||MRN-1", "line 1"),
    ("MSH|^~\\&|L|L|C|C|20261130||ADT^A01|1|P|2.5.1\rPID|1||X", "message 1, MSH-9"),
    ("MSH|^~\\&|L|L|C|C|20261130||ORU^R01|1|P|2.5.1\rPID|1||X\rOBR|1||A|X|||2026-11-30", "message 1, OBR 1, OBR-7"),
    ("MSH|^~\\&|L|L|C|C|20261130||ORU^R01|1|P|2.5.1\rPID|1||X\rOBR|1||A|X|||20261130\rOBX|1|ST|19554-5^M^LN||NEG"
     "||||||Q", "message 1, OBX 1, OBX-11"),
    ("MSH|^~\\&|L|L|C|C|20261130||ORU^R01|1|P|2.5.1\rPID|1||X", "message 1"),
])  # fmt: skip
def test_an_unreadable_hl7_body_names_the_message_segment_and_field(text: str, where: str) -> None:
    with pytest.raises(LabParseError) as raised:
        read_messages(text, ZONE)
    assert raised.value.where == where


@pytest.mark.parametrize(("body", "where"), [
    (b"{not json", "line 1"),
    (b'{"resourceType": "Patient"}', "resourceType"),
    (b'{"resourceType": "Observation", "status": "registered", "code": {"coding": []}}', "Observation, status"),
    (b'{"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Observation", "status": "final"}}]}',
     "entry 1 (Observation), code"),
    (b'{"resourceType": "Observation", "status": "final", "code": {"coding": [{"system": "http://loinc.org",'
     b' "code": "19554-5"}]}, "effectiveDateTime": "yesterday"}', "Observation, effectiveDateTime"),
])  # fmt: skip
def test_an_unreadable_fhir_body_names_the_entry_and_field(body: bytes, where: str) -> None:
    with pytest.raises(LabParseError) as raised:
        read_fhir(body, ZONE)
    assert raised.value.where == where


def test_a_csv_without_the_required_header_is_refused_naming_what_it_lacks() -> None:
    with pytest.raises(LabParseError, match="lacks accession, loinc"):
        list(read_csv(["record_number,collected_at,result,status\n"], ZONE))


def test_fhir_statuses_map_as_the_contract_says() -> None:
    def status(name: str) -> LabStatus:
        body = {"resourceType": "Observation", "status": name, "valueString": "negative",
                "code": {"coding": [{"system": "http://loinc.org", "code": "19554-5"}]}}
        return read_fhir(json.dumps(body), ZONE).observations[0].status
    assert [status(s) for s in ("preliminary", "final", "amended", "corrected", "cancelled", "entered-in-error")] \
        == [LabStatus.PRELIMINARY, LabStatus.FINAL, LabStatus.CORRECTED, LabStatus.CORRECTED, LabStatus.WITHDRAWN,
            LabStatus.WITHDRAWN]


@pytest.mark.parametrize(("text", "result"), [
    ("POS", "positive"), ("neg", "negative"), ("Detected", "positive"), ("Not detected", "negative"),
    ("ND", "negative"), ("Positive, confirmed", "positive"), ("negative (screen)", "negative"), ("1.015", None),
    ("", None),
])  # fmt: skip
def test_result_words(text: str, result: str | None) -> None:
    assert result_of(text) == result


@pytest.mark.parametrize(("measures", "validity"), [
    ({Measure.CREATININE: Decimal(85), Measure.SPECIFIC_GRAVITY: Decimal("1.015"), Measure.PH: Decimal(6)},
     Validity.VALID),
    ({Measure.CREATININE: Decimal(15), Measure.SPECIFIC_GRAVITY: Decimal("1.002")}, Validity.DILUTE),
    ({Measure.CREATININE: Decimal(20), Measure.SPECIFIC_GRAVITY: Decimal("1.002")}, Validity.VALID),
    ({Measure.CREATININE: Decimal("1.5"), Measure.SPECIFIC_GRAVITY: Decimal("1.0010")}, Validity.SUBSTITUTED),
    ({Measure.CREATININE: Decimal("1.5"), Measure.SPECIFIC_GRAVITY: Decimal("1.0200")}, Validity.SUBSTITUTED),
    ({Measure.CREATININE: Decimal("1.5"), Measure.SPECIFIC_GRAVITY: Decimal("1.0100")}, Validity.VALID),
    ({Measure.PH: Decimal("3.9")}, Validity.ADULTERATED),
    ({Measure.PH: Decimal(11)}, Validity.ADULTERATED),
    ({Measure.PH: Decimal("4.2")}, Validity.INVALID),
    ({Measure.PH: Decimal("9.5")}, Validity.INVALID),
    ({Measure.PH: Decimal("8.9")}, Validity.VALID),
    ({}, None),
])  # fmt: skip
def test_validity_from_measures_follows_the_hhs_cut_offs(measures: dict[Measure, Decimal],
                                                          validity: Validity | None) -> None:
    assert validity_from_measures(measures) == validity


def test_the_labs_own_validity_statement_wins_over_measures() -> None:
    lines = ["record_number,accession,collected_at,loinc,result,status,creatinine_mg_dl,specific_gravity,validity\n",
             "MRN-1,A-1,2026-11-30T08:30:00,19554-5,negative,final,85,1.015,dilute\n"]
    [specimen] = group(read_csv(lines, ZONE), DEFAULT_ANALYTE_CODES)  # type: ignore[arg-type]
    assert specimen.computed_validity == Validity.DILUTE


def test_an_ack_echoes_the_senders_header_and_escapes_its_note() -> None:
    from cm_tracker.labs.acks import AckCode, ack

    at = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
    text = ack(DATA.joinpath("oru_r01.hl7").read_text(), AckCode.ERROR, "held: unknown code 99999-9 | x^y", "CM-1", at)
    msh, msa = text.rstrip("\r").split("\r")
    assert msh == "MSH|^~\\&|CMTRACKER|CLINIC|REFLAB|ACME LABS|20261201180000+0000||ACK^R01^ACK|CM-1|P|2.5.1"
    assert msa == "MSA|AE|ACME-000123|held: unknown code 99999-9 \\F\\ x\\S\\y"
    assert ack("not hl7", AckCode.REJECTED, "unreadable", "CM-2", at).split("\r")[1] == "MSA|AR||unreadable"
