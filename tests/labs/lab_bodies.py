"""Lab bodies to order, in each of the three formats, for the tests of applying lab results (tests/labs/data holds
the samples as a lab sends them). One result is (LOINC code, "POS" or "NEG")."""

from __future__ import annotations

import json
from pathlib import Path

DATA = Path(__file__).parent / "data"
FORMATS = ("csv", "hl7v2", "fhir")
METH, COCAINE = "19554-5", "43984-4"  # methamphetamine, benzoylecgonine
NEGATIVE = [(METH, "NEG"), (COCAINE, "NEG")]
POSITIVE_COCAINE = [(METH, "NEG"), (COCAINE, "POS")]
WHEN = "2026-11-30T08:30:00-08:00"  # 16:30 UTC
_HL7_STATUS = {"final": "F", "preliminary": "P", "corrected": "C", "cancelled": "X"}
_FHIR_STATUS = {"final": "final", "preliminary": "preliminary", "corrected": "corrected", "cancelled": "cancelled"}


def sample(fmt: str) -> bytes:
    """The sample file of a format: MRN-001's ACC-1001, methamphetamine negative, cocaine positive."""
    return DATA.joinpath({"csv": "results.csv", "hl7v2": "oru_r01.hl7", "fhir": "bundle.json"}[fmt]).read_bytes()


def body(fmt: str, results: list[tuple[str, str]], *, status: str = "final", accession: str = "ACC-1001",
         record_number: str = "MRN-001", when: str = WHEN) -> bytes:
    return {"csv": _csv, "hl7v2": _hl7, "fhir": _fhir}[fmt](results, status, accession, record_number, when)


def _csv(results: list[tuple[str, str]], status: str, accession: str, record_number: str, when: str) -> bytes:
    rows = [f"{record_number},{accession},{when},{code},{'positive' if r == 'POS' else 'negative'},{status}"
            for code, r in results]
    return ("record_number,accession,collected_at,loinc,result,status\n" + "\n".join(rows) + "\n").encode()


def _hl7(results: list[tuple[str, str]], status: str, accession: str, record_number: str, when: str) -> bytes:
    stamp = when[:19].replace("-", "").replace("T", "").replace(":", "") + when[19:].replace(":", "")
    segments = ["MSH|^~\\&|REFLAB|ACME LABS|CMTRACKER|CLINIC|20261130143000||ORU^R01^ORU_R01|M1|P|2.5.1",
                f"PID|1||{record_number}^^^CLINIC^MR", f"OBR|1|REQ-1|{accession}|DAU|||{stamp}"]
    segments += [f"OBX|{n}|ST|{code}^Drug^LN||{r}||||||{_HL7_STATUS[status]}"
                 for n, (code, r) in enumerate(results, 1)]
    return "\r".join(segments).encode()


def _fhir(results: list[tuple[str, str]], status: str, accession: str, record_number: str, when: str) -> bytes:
    interpretation = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
    entries = [{"resource": {
        "resourceType": "Observation", "status": _FHIR_STATUS[status], "identifier": [{"value": accession}],
        "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
        "subject": {"identifier": {"value": record_number}}, "effectiveDateTime": when,
        "interpretation": [{"coding": [{"system": interpretation, "code": r}]}]}} for code, r in results]
    return json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}).encode()
