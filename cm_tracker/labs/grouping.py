"""All observations of one accession form one specimen with a result per analyte (docs/labs.md "Formats")."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from cm_tracker.engine.outcomes import POSITIVE, Validity
from cm_tracker.labs.codes import VALIDITY_CODES, Measure, validity_from_measures
from cm_tracker.labs.observations import LabObservation, LabStatus, RowProblem

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
        key = key_of(o)
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


def key_of(observation: LabObservation) -> str:
    """The accession an observation belongs to; one without stands alone, named by where it is."""
    return observation.accession or f"(no accession: {observation.where})"


def in_chunks(read: Callable[[], Iterable[LabObservation | RowProblem]], codes: Mapping[str, tuple[str, ...]],
              size: int) -> Iterator[list[LabSpecimen] | list[RowProblem]]:
    """What `group` makes of everything `read()` yields, `size` accessions at a time, holding only what one chunk
    needs, so that a body of any length takes the same memory: first the rows that could not be read, then the
    specimens in the order their accessions first appear (as `group`).

    `read` is called twice and must yield the same both times. The first pass keeps only where each accession is
    last seen; the second keeps an accession's observations until then. Labs send an accession's results together,
    so a few are kept at a time; one that comes back much later is still one specimen, and holds its followers back
    until then (the order stays that of first appearance)."""
    last: dict[str, int] = {}
    problems: list[RowProblem] = []
    for number, item in enumerate(read()):
        if isinstance(item, RowProblem):
            problems.append(item)
            if len(problems) == size:
                yield problems
                problems = []
        else:
            last[key_of(item)] = number
    if problems:
        yield problems
    order: deque[str] = deque()
    kept: dict[str, list[LabObservation]] = {}
    ready: list[LabObservation] = []
    count = 0
    for number, item in enumerate(read()):
        if isinstance(item, RowProblem):
            continue
        key = key_of(item)
        if key not in kept:
            order.append(key)
            kept[key] = []
        kept[key].append(item)
        while order and last[order[0]] <= number:  # the first accession waiting is complete: it goes
            ready += kept.pop(order.popleft())
            count += 1
        if count >= size:
            yield group(ready, codes)
            ready, count = [], 0
    if ready:
        yield group(ready, codes)


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
