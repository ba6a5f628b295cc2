"""The LOINC map as the codes page shows it: the built-in codes (cm_tracker.labs.codes) and the clinic's own, and the
analyte keys a clinic code may count for."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import aliased

from cm_tracker.extensions import db
from cm_tracker.labs.codes import DEFAULT_ANALYTE_CODES, VALIDITY_CODES
from cm_tracker.models import LoincCode, User
from cm_tracker.services.core.lab_map import analyte_keys

__all__ = ["BuiltIn", "ClinicCode", "analyte_keys", "built_in", "clinic_codes", "find_code", "is_built_in"]


@dataclass(frozen=True, slots=True)
class BuiltIn:
    code: str
    analytes: tuple[str, ...]
    is_validity: bool  # a measure of the specimen's validity (creatinine, pH, specific gravity), not a drug


@dataclass(frozen=True, slots=True)
class ClinicCode:
    row: LoincCode
    added_by: str


def built_in() -> list[BuiltIn]:
    """The shipped map, by analyte then code, and the validity measures after it."""
    drugs = [BuiltIn(c, a, False) for c, a in DEFAULT_ANALYTE_CODES.items()]
    measures = [BuiltIn(c, (str(m),), True) for c, m in VALIDITY_CODES.items()]
    return sorted(drugs, key=_order) + sorted(measures, key=_order)


def _order(code: BuiltIn) -> tuple[tuple[str, ...], str]:
    return code.analytes, code.code


def is_built_in(code: str) -> bool:
    return code in DEFAULT_ANALYTE_CODES or code in VALIDITY_CODES


def clinic_codes() -> list[ClinicCode]:
    """The codes the clinic added, newest first, with who added them (one statement)."""
    adder = aliased(User)
    query = (select(LoincCode, adder.display_name).outerjoin(adder, LoincCode.added_by_id == adder.id)
             .order_by(LoincCode.added_at.desc(), LoincCode.id.desc()))
    return [ClinicCode(row, name or "") for row, name in db.session.execute(query)]


def find_code(code: str) -> ClinicCode | None:
    adder = aliased(User)
    found = db.session.execute(select(LoincCode, adder.display_name)
                               .outerjoin(adder, LoincCode.added_by_id == adder.id)
                               .where(LoincCode.code == code)).first()
    return ClinicCode(found[0], found[1] or "") if found else None
