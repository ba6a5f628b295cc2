"""A lab's specimen as stored on its LabResult row (JSON, with its digest), and what it asks of a specimen.

The content is what the lab said, not where in the body it said it (that is the row's `location`), so the same
result sent again in another file has the same digest and is `unchanged`; staff read a held row's content in the
review queue (applying it again reads the stored body again, usecases/lab_review.py). What the lab's content makes
of a specimen is decided here, in one place, for a new specimen, a pending one, a desk's cup and a withdrawal
(docs/rules.md 3 and 6, docs/labs.md "Statuses and what they do").
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from typing import Any

from cm_tracker.labs.codes import validity_from_measures
from cm_tracker.labs.grouping import LabSpecimen
from cm_tracker.labs.observations import LabStatus, RowProblem
from cm_tracker.models import AnalyteResult, RecordVersion, Specimen, SpecimenStatus, TestMethod, Validity
from cm_tracker.services.queries.correction_reasons import is_lab_reason
from cm_tracker.services.usecases.specimens import SpecimenInput, input_of


def storable(text: str) -> str:
    """A lab's text as a database stores it: a NUL or a lone surrogate (from a JSON escape) becomes U+FFFD."""
    if text.isascii() and "\x00" not in text:
        return text
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace").replace("\x00", "\ufffd")


def _storable(value: Any) -> Any:
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, list):
        return [_storable(v) for v in value]
    if isinstance(value, dict):
        return {storable(str(k)): _storable(v) for k, v in value.items()}
    return value


def content_of(specimen: LabSpecimen) -> dict[str, Any]:
    return _storable({
        "accession": specimen.accession, "record_number": specimen.record_number,
        "collected_at": specimen.collected_at.isoformat() if specimen.collected_at else None,
        "status": str(specimen.status), "statuses": sorted(str(s) for s in specimen.statuses),
        "results": dict(sorted(specimen.results.items())),
        "validity": str(specimen.validity) if specimen.validity else None,
        "measures": {str(k): str(v) for k, v in sorted(specimen.measures.items())},
        "unknown": list(specimen.unknown), "conflicts": list(specimen.conflicts), "others": list(specimen.others),
    })


def problem_content(problem: RowProblem) -> dict[str, Any]:
    """A CSV row that could not be read: kept as the reader saw it, with its reason, for staff to read."""
    return _storable({"accession": problem.accession, "record_number": problem.record_number,
                      "problem": problem.reason})


def digest_of(content: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def why_held(lab: LabSpecimen) -> str | None:
    """What in the lab's content itself keeps it from being applied (the database is asked elsewhere)."""
    if lab.accession.startswith("(no accession"):
        return "The result has no accession (specimen or requisition number)."
    if not lab.record_number:
        return "The result names no record number."
    if lab.unknown:
        return (f"Unknown code {', '.join(lab.unknown)}: the LOINC map does not say which analyte it is "
                "(add the code to the map and apply it again, or dismiss it).")
    if lab.others:
        return f"The lab's rows for accession {lab.accession} disagree: {'; '.join(lab.others)}."
    if lab.conflicts:
        return f"The lab sent different results for {', '.join(sorted(set(lab.conflicts)))} in one accession."
    return None


def new_specimen(lab: LabSpecimen) -> SpecimenInput:
    """A specimen the lab's result creates (the desk never recorded that accession)."""
    assert lab.collected_at is not None
    pending = lab.status == LabStatus.PRELIMINARY
    return SpecimenInput(collected_at=lab.collected_at,
                         status=SpecimenStatus.PENDING if pending else SpecimenStatus.FINAL,
                         results=_results(lab.results), validity=lab.computed_validity, method=TestMethod.LAB,
                         accession=lab.accession)


def desk_before_lab(specimen: Specimen, versions: list[RecordVersion]) -> SpecimenInput | None:
    """What the desk had recorded before the lab's first result (the version before the first the lab wrote); None
    for a specimen the lab created."""
    ordered = sorted(versions, key=lambda v: v.version)
    first_lab = next((v.version for v in ordered if is_lab_reason(v.reason)), None)
    before = [v for v in ordered if first_lab is None or v.version < first_lab]
    if not before:
        return None
    data = before[-1].data
    return SpecimenInput(
        collected_at=specimen.collected_at, status=SpecimenStatus(data["status"]),
        results={a: AnalyteResult(r) for a, r in (data.get("results") or {}).items()},
        validity=Validity(data["validity"]) if data.get("validity") else None,
        temperature_ok=data.get("temperature_ok"), observed=data.get("observed"),
        method=TestMethod(data["method"]) if data.get("method") else None, note=data.get("note", ""),
        accession=specimen.accession)


def changed_specimen(specimen: Specimen, lab: LabSpecimen, desk: SpecimenInput | None) -> SpecimenInput:
    """The specimen as the lab's content makes it: a final result replaces the cup's for each analyte the lab
    tested (the desk's others stay), a withdrawal goes back to the desk's record before the lab (or to pending, which
    is neutral, for a specimen the lab created), a preliminary result leaves a final cup as it is."""
    current = input_of(specimen)
    if lab.status == LabStatus.WITHDRAWN:
        if desk is not None:
            return desk
        return replace(current, status=SpecimenStatus.PENDING, results={}, validity=None, method=TestMethod.LAB)
    if lab.status == LabStatus.PRELIMINARY:
        if specimen.status != SpecimenStatus.PENDING:
            return current
        return replace(current, results=_results(lab.results), method=TestMethod.LAB)
    base = dict(desk.results) if desk is not None and desk.status == SpecimenStatus.FINAL else {}
    validity = lab.validity or validity_from_measures(lab.measures) or (desk.validity if desk else None)
    return replace(current, status=SpecimenStatus.FINAL, results={**base, **_results(lab.results)},
                   validity=validity or Validity.VALID, method=TestMethod.LAB)


def _results(results: dict[str, str]) -> dict[str, AnalyteResult]:
    return {analyte: AnalyteResult(result) for analyte, result in sorted(results.items())}
