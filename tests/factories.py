"""Inputs for tests: moments on the clinic world's calendar and specimens by short code (import with
`from factories import ...`). The clinic world itself is built by tests/worlds/clinic.py (fixture `make_clinic`)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

STIMULANTS = ["cocaine", "methamphetamine"]
START = date(2026, 1, 5)  # a Monday


def at(day: int, hour: int = 17) -> datetime:
    """Day `day` of the programme (0 = the first Monday) at an hour that is that same date in the clinic."""
    return datetime.combine(START + timedelta(days=day), datetime.min.time(), tzinfo=UTC) + timedelta(hours=hour)


def specimen(result: str, **overrides: Any):
    """N, P, M (missed), E (excused), R (refused), D (dilute), or "N/P" for primary/bonus sets."""
    from cm_tracker.models import AnalyteResult, SpecimenStatus, Validity
    from cm_tracker.services.usecases.specimens import SpecimenInput

    when = overrides.pop("collected_at")
    primary, _, bonus = result.partition("/")
    if primary in {"M", "E", "R"}:
        status = {"M": SpecimenStatus.MISSED, "E": SpecimenStatus.EXCUSED, "R": SpecimenStatus.REFUSED}[primary]
        return SpecimenInput(collected_at=when, status=status, **overrides)
    value = AnalyteResult.NEGATIVE if primary in {"N", "D"} else AnalyteResult.POSITIVE
    results = {a: value for a in STIMULANTS}
    if bonus:
        results["opiates"] = AnalyteResult.NEGATIVE if bonus == "N" else AnalyteResult.POSITIVE
    validity = Validity.DILUTE if primary == "D" else Validity.VALID
    return SpecimenInput(collected_at=when, status=SpecimenStatus.FINAL, results=results, validity=validity,
                         temperature_ok=True, **overrides)
