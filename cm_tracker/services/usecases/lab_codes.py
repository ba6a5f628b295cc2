"""The clinic's LOINC codes (docs/labs.md "Analytes: the LOINC map"): adding a code to the map, and removing one
the clinic added.

A code is checked the way LOINC writes it (digits, a hyphen and its mod-10 check digit), so a typed code that can
never arrive from a lab is refused instead of waiting silently in the map. A built-in code cannot be added over:
the shipped map is the clinic's safety net (core.lab_map ignores such a row anyway). Removing a clinic code is
safe: results already applied keep their analyte (a specimen stores its results by analyte); later results with
that code are held for review again. Each change is audited in its own transaction.
"""

from __future__ import annotations

import re

from sqlalchemy.exc import IntegrityError

from cm_tracker.extensions import db
from cm_tracker.labs.codes import DEFAULT_ANALYTE_CODES, VALIDITY_CODES
from cm_tracker.models import LoincCode, User
from cm_tracker.services.core import audit
from cm_tracker.services.core.errors import NotFound, ValidationFailed
from cm_tracker.services.core.lab_map import analyte_keys
from cm_tracker.services.queries import lab_codes as lab_codes_reads
from cm_tracker.validation import has_control_characters, has_lone_surrogate

CODE_SHAPE = re.compile(r"(\d{1,7})-(\d)")
NOTE_MAX = 200


def check_digit(digits: str) -> int:
    """LOINC's mod-10 check digit of the digits before the hyphen (LOINC Users' Guide, "Calculating Mod 10 check
    digits"): from the right, the digits in odd positions joined into a number and doubled, the digits in even
    positions appended, the digits of the result summed; the check digit takes that sum to the next multiple of 10.
    19554 -> 5 (19554-5, methamphetamine), 14314 -> 9 (14314-9, benzoylecgonine)."""
    reversed_digits = digits[::-1]
    doubled = str(int(reversed_digits[0::2][::-1]) * 2)
    joined = doubled + reversed_digits[1::2][::-1]
    return (10 - sum(int(d) for d in joined) % 10) % 10


def code_problem(code: str) -> str | None:
    """Why `code` cannot be added to the map, or None."""
    shape = CODE_SHAPE.fullmatch(code)
    if shape is None:
        return "A LOINC code is up to 7 digits, a hyphen and a check digit, like 19554-5."
    if int(shape.group(2)) != check_digit(shape.group(1)):
        return f"{code} fails LOINC's check digit: check the code for a typo."
    if code in DEFAULT_ANALYTE_CODES:
        return f"{code} is built in: it counts for {', '.join(DEFAULT_ANALYTE_CODES[code])} already."
    if code in VALIDITY_CODES:
        return f"{code} is built in: it is a validity measure ({VALIDITY_CODES[code]})."
    found = lab_codes_reads.find_code(code)
    if found is not None:
        return f"{code} is in the clinic's codes already (for {', '.join(found.row.analytes)})."
    return None


def add_code(code: str, analyte: str, note: str, *, actor: User) -> LoincCode:
    """Add `code` for the analyte key `analyte`; ValidationFailed naming `code`, `analyte` or `note`."""
    code, note = code.strip(), note.strip()
    problems: dict[str, str] = {}
    if (problem := code_problem(code)) is not None:
        problems["code"] = problem
    if analyte not in analyte_keys():
        problems["analyte"] = "Choose the analyte this code is a result for."
    if len(note) > NOTE_MAX or has_control_characters(note) or has_lone_surrogate(note):
        problems["note"] = f"Keep the note to one line of at most {NOTE_MAX} characters."
    if problems:
        raise ValidationFailed("The code was not added.", fields=problems)
    row = LoincCode(code=code, analytes=[analyte], note=note, added_by_id=actor.id)
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError:  # added at the same moment by someone else: the unique code decides
        db.session.rollback()
        raise ValidationFailed("The code was not added.",
                               fields={"code": f"{code} is in the clinic's codes already."}) from None
    audit.record("lab_code.add", user=actor, object_type="loinc_code", object_id=row.id,
                 detail={"code": code, "analytes": [analyte], "note": note})
    db.session.commit()
    return row


def remove_code(code_id: int, *, actor: User) -> str:
    """Remove a clinic code (NotFound when it is gone already, e.g. a second click); returns the code removed."""
    row = db.session.get(LoincCode, code_id)
    if row is None:
        raise NotFound("That code is not in the clinic's codes (it may have been removed already).")
    code, analytes = row.code, list(row.analytes)
    db.session.delete(row)
    audit.record("lab_code.remove", user=actor, object_type="loinc_code", object_id=code_id,
                 detail={"code": code, "analytes": analytes, "note": row.note})
    db.session.commit()
    return code
