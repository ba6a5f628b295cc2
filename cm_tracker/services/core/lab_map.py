"""The LOINC map in force: the shipped default (cm_tracker.labs.codes) with the codes the clinic added (`LoincCode`).

A clinic row may only add a code: a row naming a code of the default map is ignored, so a typo in the admin pages
cannot turn a cocaine result into a methadone one. A code outside the map is held for review, never guessed.
"""

from __future__ import annotations

from sqlalchemy import select

from cm_tracker.extensions import db
from cm_tracker.labs.codes import DEFAULT_ANALYTE_CODES
from cm_tracker.models import LoincCode

# The analyte keys a code may map to: those of the default map (shared/domain.md 9), which programme targets name.
ANALYTE_KEYS: tuple[str, ...] = tuple(sorted({a for analytes in DEFAULT_ANALYTE_CODES.values() for a in analytes}))


def codes_in_force() -> dict[str, tuple[str, ...]]:
    """Each code the map knows -> the analyte keys its result counts for (one statement)."""
    codes = dict(DEFAULT_ANALYTE_CODES)
    for code, analytes in db.session.execute(select(LoincCode.code, LoincCode.analytes)):
        if code not in codes and analytes:
            codes[code] = tuple(a for a in analytes if a in ANALYTE_KEYS)
    return {code: analytes for code, analytes in codes.items() if analytes}
