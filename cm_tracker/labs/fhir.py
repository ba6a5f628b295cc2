"""FHIR R4 lab results: a Bundle (any type; its entries may include the Patient and the Specimen) or one
Observation, read strictly for the few fields a drug-test result needs (docs/labs.md has the mapping):

- the patient: `Observation.subject` refers to a bundled Patient, or carries an `identifier`; the identifier's
  `value` is the record number;
- the accession: the referenced Specimen's `accessionIdentifier.value`, else the Observation's first
  `identifier.value`;
- the analyte: a `code.coding` of system http://loinc.org;
- the result: `interpretation` POS/NEG/DET/ND (v3 ObservationInterpretation), or a `valueCodeableConcept` with
  those codes or the words, or a `valueString` starting with "pos" or "neg"; a `valueQuantity` is a measurement;
- the status: `preliminary` pending; `final`, `amended`, `corrected` final; `cancelled`, `entered-in-error`
  withdrawn;
- the collection time: `effectiveDateTime`, else the Specimen's `collection.collectedDateTime`.

Resources of other types are skipped and counted. A malformed body raises LabParseError naming the entry and field.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from cm_tracker.labs.jsonstream import NotAnObject, members
from cm_tracker.labs.observations import LabObservation, LabParseError, LabStatus, aware, number_of, result_of

LOINC = "http://loinc.org"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
_INTERPRETED = {"POS": "positive", "NEG": "negative", "DET": "positive", "ND": "negative"}
_STATUSES = {"preliminary": LabStatus.PRELIMINARY, "final": LabStatus.FINAL, "amended": LabStatus.CORRECTED,
             "corrected": LabStatus.CORRECTED, "cancelled": LabStatus.WITHDRAWN,
             "entered-in-error": LabStatus.WITHDRAWN}
_KEPT = {"Observation", "Patient", "Specimen"}


@dataclass
class FhirRead:
    observations: list[LabObservation] = field(default_factory=list)
    skipped: int = 0  # resources of other types, ignored


def read_fhir(body: bytes | str, zone: ZoneInfo) -> FhirRead:
    read = FhirBody(body, zone)
    return FhirRead(list(read.observations()), read.skipped)


class FhirBody:
    """A body read a Bundle entry at a time (labs/jsonstream.py), so that a Bundle of any length takes about the
    memory of one entry: when it is made the body is read through, its entries checked and the Patients and
    Specimens the Observations refer to kept (only the fields read); `observations()` reads it through again for
    the Observations, as often as it is called. (The entries of an "entry" key repeated are all read.)"""

    def __init__(self, body: bytes | str, zone: ZoneInfo) -> None:
        self.body, self.zone, self.skipped = body, zone, 0
        self._bundled: dict[str, dict[str, Any]] = {}
        self._single: dict[str, Any] | None = None
        with _as_lab_errors():
            self._index()

    def observations(self) -> Iterator[LabObservation]:
        if self._single is not None:
            yield _observation(self._single, "Observation", {}, self.zone)
            return
        entries = (value for _, value, streamed in members(self.body, "entry") if streamed)
        for number, entry in enumerate(entries, 1):
            resource = entry["resource"]
            if resource.get("resourceType") == "Observation":
                yield _observation(resource, f"entry {number} (Observation)", self._bundled, self.zone)

    def _index(self) -> None:
        """Check the body's shape and keep what the Observations refer to; a single Observation is kept whole.
        The whole body is read first, so that a body that is not JSON is refused as such."""
        document: dict[str, Any] = {}
        problem: LabParseError | None = None
        number = 0
        for key, value, streamed in members(self.body, "entry"):
            if not streamed:
                document[key] = value
                continue
            number += 1
            problem = problem or self._keep(number, value)
        kind = document.get("resourceType")
        if kind == "Observation":
            self._single = document
            return
        if kind != "Bundle":
            raise LabParseError("resourceType", f"expected a Bundle or an Observation, got {kind!r}")
        if "entry" in document:
            raise LabParseError("Bundle.entry", "must be a list")
        if problem is not None:
            raise problem

    def _keep(self, number: int, entry: Any) -> LabParseError | None:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            return LabParseError(f"entry {number}", "has no resource")
        if resource.get("resourceType") not in _KEPT:
            self.skipped += 1
            return None
        for name in _names(entry, resource):
            self._bundled[name] = _referable(resource)
        return None


@contextmanager
def _as_lab_errors() -> Iterator[None]:
    try:
        yield
    except LabParseError:
        raise
    except NotAnObject:
        raise LabParseError("body", "a FHIR resource is a JSON object") from None
    except (ValueError, UnicodeDecodeError) as exc:
        where = f"line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else "body"
        raise LabParseError(where, "not JSON") from None
    except RecursionError:  # "[[[[..." deeper than the interpreter's stack: no FHIR resource nests like that
        raise LabParseError("body", "nested too deeply to be a FHIR resource") from None


def _referable(resource: dict[str, Any]) -> dict[str, Any]:
    """What an Observation reads of a resource it refers to (a Specimen's accession and collection time, a
    Patient's first identifier), so that a Bundle's resources are not all kept."""
    kind = resource.get("resourceType")
    if kind == "Specimen":
        collection = resource.get("collection")
        return {"resourceType": kind, "accessionIdentifier": resource.get("accessionIdentifier"),
                "collection": {"collectedDateTime": collection.get("collectedDateTime")}
                if isinstance(collection, dict) else None}
    if kind == "Patient":
        identifiers = resource.get("identifier")
        return {"resourceType": kind, "identifier": identifiers[:1] if isinstance(identifiers, list) else None}
    return {"resourceType": kind}


def _names(entry: dict[str, Any], resource: dict[str, Any]) -> list[str]:
    """How an Observation may refer to this resource: its fullUrl, or Type/id."""
    names = [str(entry["fullUrl"])] if entry.get("fullUrl") else []
    if resource.get("id"):
        names.append(f"{resource['resourceType']}/{resource['id']}")
    return names


def _observation(resource: dict[str, Any], where: str, bundled: dict[str, dict[str, Any]],
                 zone: ZoneInfo) -> LabObservation:
    status = _STATUSES.get(str(resource.get("status", "")))
    if status is None:
        raise LabParseError(f"{where}, status", f"unknown status {resource.get('status')!r}")
    code, text = _loinc(resource.get("code"), f"{where}, code")
    specimen = _referred(resource.get("specimen"), bundled, "Specimen")
    accession = _value(specimen.get("accessionIdentifier")) if specimen else None
    if not accession:
        identifiers = resource.get("identifier")
        accession = _value(identifiers[0]) if isinstance(identifiers, list) and identifiers else None
    moment = resource.get("effectiveDateTime")
    if moment is None and specimen:
        moment = _dict(specimen.get("collection")).get("collectedDateTime")
    collected = _instant(moment, f"{where}, effectiveDateTime", zone) if moment is not None else None
    value_text = resource.get("valueString")
    quantity = resource.get("valueQuantity")
    return LabObservation(
        where=where, record_number=_record_number(resource.get("subject"), bundled), accession=accession or None,
        collected_at=collected, code=code, analyte=None, result=_result(resource, where),
        value=number_of(str(quantity.get("value"))) if isinstance(quantity, dict) and "value" in quantity
        else number_of(value_text if isinstance(value_text, str) else None),
        status=status, text=text)


def _loinc(concept: Any, where: str) -> tuple[str, str]:
    if not isinstance(concept, dict) or not isinstance(concept.get("coding"), list) or not concept["coding"]:
        raise LabParseError(where, "an Observation needs a code with a coding")
    codings = [c for c in concept["coding"] if isinstance(c, dict)]
    for coding in codings:
        if coding.get("system") == LOINC and coding.get("code"):
            return str(coding["code"]), str(coding.get("display") or concept.get("text") or "")
    first = codings[0] if codings else {}
    # Not a LOINC code: kept as system:code, so it is held for review as an unknown code rather than guessed.
    return f"{first.get('system', '')}:{first.get('code', '')}", str(first.get("display") or concept.get("text") or "")


def _result(resource: dict[str, Any], where: str) -> str | None:
    for concept in _list(resource.get("interpretation")):
        for coding in _list(_dict(concept).get("coding")):
            if isinstance(coding, dict) and str(coding.get("code", "")).upper() in _INTERPRETED:
                return _INTERPRETED[str(coding["code"]).upper()]
    concept = resource.get("valueCodeableConcept")
    if isinstance(concept, dict):
        for coding in _list(concept.get("coding")):
            if isinstance(coding, dict):
                code = str(coding.get("code", ""))
                found = _INTERPRETED.get(code.upper()) or result_of(code) or result_of(coding.get("display"))
                if found:
                    return found
        return result_of(concept.get("text"))
    value = resource.get("valueString")
    return result_of(value) if isinstance(value, str) else None


def _dict(value: Any) -> dict[str, Any]:
    """A JSON object where one is expected, else empty: a field of the wrong shape is read as absent."""
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _referred(reference: Any, bundled: dict[str, dict[str, Any]], kind: str) -> dict[str, Any] | None:
    if not isinstance(reference, dict) or not reference.get("reference"):
        return None
    found = bundled.get(str(reference["reference"]))
    return found if found is not None and found.get("resourceType") == kind else None


def _record_number(subject: Any, bundled: dict[str, dict[str, Any]]) -> str | None:
    if not isinstance(subject, dict):
        return None
    if subject.get("identifier"):
        return _value(subject["identifier"])
    patient = _referred(subject, bundled, "Patient")
    identifiers = patient.get("identifier") if patient else None
    return _value(identifiers[0]) if isinstance(identifiers, list) and identifiers else None


def _value(identifier: Any) -> str | None:
    if isinstance(identifier, dict) and identifier.get("value") not in (None, ""):
        return str(identifier["value"]).strip()
    return None


def _instant(text: Any, where: str, zone: ZoneInfo) -> datetime:
    """A FHIR dateTime: a date, or a date and time with an offset (one without is the clinic's local time)."""
    if not isinstance(text, str):
        raise LabParseError(where, "must be a date and time")
    try:
        if len(text) == 10:
            return aware(date.fromisoformat(text), zone)
        return aware(datetime.fromisoformat(text.replace("Z", "+00:00")), zone)
    except ValueError:
        raise LabParseError(where, f"not a FHIR dateTime: {text[:40]!r}") from None
