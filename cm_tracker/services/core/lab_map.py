"""The LOINC map in force: the shipped default (cm_tracker.labs.codes) with the codes the clinic added (`LoincCode`),
and the analyte keys a clinic code may count for (the codes page offers these, and the map applies these).

A clinic row may only add a code: a row naming a code of the default map is ignored, so a typo in the admin pages
cannot turn a cocaine result into a methadone one. A code outside the map is held for review, never guessed.
"""

from __future__ import annotations

from sqlalchemy import select

from cm_tracker.extensions import db
from cm_tracker.labs.codes import DEFAULT_ANALYTE_CODES
from cm_tracker.models import LoincCode, ProgramTarget

# The analyte keys of the default map (docs/labs.md "Analytes: the LOINC map").
ANALYTE_KEYS: tuple[str, ...] = tuple(sorted({a for analytes in DEFAULT_ANALYTE_CODES.values() for a in analytes}))


def analyte_keys() -> tuple[str, ...]:
    """The keys a clinic code may count for: the default map's, and any a programme's target names (a preset's
    "alcohol"), so that a code the codes page saves is one the map applies (one statement)."""
    named = {str(a) for analytes in db.session.scalars(select(ProgramTarget.analytes)) for a in analytes or ()}
    return tuple(sorted(set(ANALYTE_KEYS) | named))


def codes_in_force() -> dict[str, tuple[str, ...]]:
    """Each code the map knows -> the analyte keys its result counts for (two statements)."""
    codes = dict(DEFAULT_ANALYTE_CODES)
    keys = set(analyte_keys())
    for code, analytes in db.session.execute(select(LoincCode.code, LoincCode.analytes)):
        if code not in codes and analytes:
            codes[code] = tuple(a for a in analytes if a in keys)
    return {code: analytes for code, analytes in codes.items() if analytes}
