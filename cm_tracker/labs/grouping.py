"""All observations of one accession form one specimen with a result per analyte (api: Lab results)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from cm_tracker.engine.outcomes import POSITIVE, Validity
from cm_tracker.labs.codes import VALIDITY_CODES, Measure, validity_from_measures
from cm_tracker.labs.observations import LabObservation, LabStatus

# A specimen's status is the least settled of its results': one preliminary result keeps it pending, and a
# withdrawal only stands when the lab withdraws every result it sent.
_ORDER = (LabStatus.PRELIMINARY, LabStatus.CORRECTED, LabStatus.FINAL, LabStatus.WITHDRAWN)


@dataclass
class LabSpecimen:
    """What a lab says of one accession: its patient, collection time, status, results by analyte and validity.
    `unknown` lists the codes the map does not know; `conflicts` the analytes sent twice with different results."""

    accession: str
    record_number: str | None
    collected_at: datetime | None
    where: str  # where its first observation was
    status: LabStatus = LabStatus.FINAL
    results: dict[str, str] = field(default_factory=dict)
    validity: Validity | None = None
    measures: dict[Measure, Decimal] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    others: list[str] = field(default_factory=list)  # record numbers or times that disagree within the accession
    statuses: set[LabStatus] = field(default_factory=set)

    @property
    def computed_validity(self) -> Validity:
        """The lab's statement, else the measured values' (codes.validity_from_measures), else valid."""
        return self.validity or validity_from_measures(self.measures) or Validity.VALID


def group(observations: Iterable[LabObservation], codes: Mapping[str, tuple[str, ...]]) -> list[LabSpecimen]:
    """The specimens of these observations, in the order their accessions first appear. `codes` is the LOINC map
    in force (the default and the clinic's own rows)."""
    specimens: dict[str, LabSpecimen] = {}
    for o in observations:
        key = o.accession or f"(no accession: {o.where})"
        found = specimens.get(key)
        if found is None:
            found = specimens[key] = LabSpecimen(key, o.record_number, o.collected_at, o.where)
        elif o.record_number != found.record_number:
            found.others.append(f"{o.where} names record number {o.record_number!r}")
        elif o.collected_at is not None and found.collected_at is not None and o.collected_at != found.collected_at:
            found.others.append(f"{o.where} gives another collection time")
        if found.collected_at is None:
            found.collected_at = o.collected_at
        found.statuses.add(o.status)
        if o.validity:
            found.validity = Validity(o.validity)
        _add(found, o, codes)
    for specimen in specimens.values():
        specimen.status = min(specimen.statuses, key=_ORDER.index) if specimen.statuses else LabStatus.FINAL
        if LabStatus.WITHDRAWN in specimen.statuses and len(specimen.statuses) > 1:
            specimen.status = min(specimen.statuses - {LabStatus.WITHDRAWN}, key=_ORDER.index)
    return list(specimens.values())


def _add(specimen: LabSpecimen, o: LabObservation, codes: Mapping[str, tuple[str, ...]]) -> None:
    if o.code is not None and o.code in VALIDITY_CODES:
        if o.value is not None:
            specimen.measures[VALIDITY_CODES[o.code]] = o.value
        return
    if o.code is None and o.analyte in set(Measure):
        if o.value is not None:
            specimen.measures[Measure(o.analyte)] = o.value
        return
    analytes = codes.get(o.code) if o.code is not None else ((o.analyte,) if o.analyte else None)
    if not analytes:
        specimen.unknown.append(f"{o.code or o.analyte} ({o.text})" if o.text else str(o.code or o.analyte))
        return
    if o.result is None:
        if o.status != LabStatus.WITHDRAWN:
            specimen.unknown.append(f"{o.code or o.analyte}: no positive or negative result")
        return
    for analyte in analytes:
        before = specimen.results.get(analyte)
        if before is not None and before != o.result:
            # Two codes for one analyte disagree (a class screen and a specific one): a positive is the finding.
            specimen.conflicts.append(analyte)
            specimen.results[analyte] = POSITIVE
        else:
            specimen.results[analyte] = o.result
