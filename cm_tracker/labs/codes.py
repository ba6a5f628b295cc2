"""The default LOINC map and the validity cut-offs (docs/labs.md): which analyte a lab's code is a result for, and
what a specimen's measured creatinine, pH and specific gravity say of it when the lab makes no statement.

The map is the shipped default; a clinic extends it with its own rows (the services merge them over this one). A
code outside the map is held for review, never guessed.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType

from cm_tracker.engine.outcomes import Validity

# Urine drug screens (presence, screen method), from the CDC opioid-guideline value sets of HL7's cdc-opioid-cpg
# implementation guide (LOINC 2.81). One code may be the result of two analytes (a combined amphetamines result).
DEFAULT_ANALYTE_CODES: MappingProxyType[str, tuple[str, ...]] = MappingProxyType({
    "19343-3": ("amphetamine",), "19261-7": ("amphetamine",),
    "19554-5": ("methamphetamine",),
    "76492-8": ("amphetamine", "methamphetamine"),
    "14314-9": ("cocaine",), "43984-4": ("cocaine",), "43985-1": ("cocaine",), "19359-9": ("cocaine",),
    "19295-5": ("opiates",), "70151-6": ("opiates",),
    "59673-4": ("fentanyl",),
    "93494-3": ("buprenorphine",), "58359-1": ("buprenorphine",),
    "19550-3": ("methadone",), "93495-0": ("methadone",),
    "18282-4": ("cannabinoids",), "19415-9": ("cannabinoids",),
    "14316-4": ("benzodiazepines",),
    "19568-5": ("mdma",),
    "19642-8": ("oxycodone",), "58430-0": ("oxycodone",),
    "19659-2": ("pcp",),
    "19321-9": ("6-mam",),
})  # fmt: skip


class Measure(StrEnum):
    CREATININE = "creatinine"  # mg/dL
    PH = "ph"
    SPECIFIC_GRAVITY = "specific_gravity"


VALIDITY_CODES: MappingProxyType[str, Measure] = MappingProxyType({
    "2161-8": Measure.CREATININE,
    "2756-5": Measure.PH, "5803-2": Measure.PH,
    "2965-2": Measure.SPECIFIC_GRAVITY, "5811-5": Measure.SPECIFIC_GRAVITY,
})  # fmt: skip


def validity_from_measures(measures: dict[Measure, Decimal]) -> Validity | None:
    """The HHS workplace-testing cut-offs, shipped as a labelled default: adulterated (pH < 4 or >= 11), invalid
    (pH 4 to 4.5, or 9 to 11), substituted (creatinine < 2 with specific gravity <= 1.0010 or >= 1.0200), dilute
    (creatinine 2 to 20 with specific gravity above 1.0010 and below 1.0030); else valid. None when nothing was
    measured. Tampering outranks dilution: the worse finding is the one reported."""
    if not measures:
        return None
    ph = measures.get(Measure.PH)
    creatinine = measures.get(Measure.CREATININE)
    gravity = measures.get(Measure.SPECIFIC_GRAVITY)
    if ph is not None and (ph < 4 or ph >= 11):
        return Validity.ADULTERATED
    if creatinine is not None and gravity is not None and creatinine < 2 and (
            gravity <= Decimal("1.0010") or gravity >= Decimal("1.0200")):
        return Validity.SUBSTITUTED
    if ph is not None and (Decimal(4) <= ph < Decimal("4.5") or Decimal(9) <= ph < 11):
        return Validity.INVALID
    if creatinine is not None and gravity is not None and Decimal(2) <= creatinine < 20 and (
            Decimal("1.0010") < gravity < Decimal("1.0030")):
        return Validity.DILUTE
    return Validity.VALID
