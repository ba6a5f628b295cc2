"""Whose patients a user works with: "on my caseload", in one place for permissions, queries and pages.

Admins and managers oversee every patient of the clinic; a counselor's caseload is the patients assigned to them
(`Patient.counselor_id`); a patient account has no caseload (it reaches its own record through /me only). What a
user may do with a patient on their caseload (read, record) is permissions.py's to say.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, ColumnElement, Integer, any_, bindparam, false, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal

from cm_tracker.models import Patient, Role, User

EVERY_PATIENT_ROLES = frozenset({Role.ADMIN, Role.MANAGER})


def sees_every_patient(user: User) -> bool:
    return user.role in EVERY_PATIENT_ROLES


def on_caseload(user: User, patient: Patient) -> bool:
    return sees_every_patient(user) or (user.role == Role.COUNSELOR and patient.counselor_id == user.id)


def caseload_filter(user: User) -> ColumnElement[bool]:
    """`on_caseload` as a condition on Patient, for queries of many patients."""
    if sees_every_patient(user):
        return true()
    if user.role == Role.COUNSELOR:
        return assigned_to(user.id)
    return false()


def assigned_to(counselor_id: int) -> ColumnElement[bool]:
    """The patients of one counselor's caseload (the reports' counselor filter, a counselor's own caseload)."""
    return Patient.counselor_id == counselor_id


class InIds(ColumnElement[bool]):
    """The column is one of the ids bound as `name` at execution, for statements built once and run with a
    caseload's ids: an expanding IN on SQLite, `column = ANY(%(name)s::INTEGER[])` (one parameter) on PostgreSQL.
    There an expanding IN over 150 patients is a statement of 150 parameters and 4,000 to 12,000 characters, which
    psycopg neither prepares (more than 50 parameters) nor caches the conversion of (longer than 4,096 characters):
    it was split with a regular expression, then parsed and planned by the server anew on every page."""

    inherit_cache = True
    type = Boolean()
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement), ("name", InternalTraversal.dp_string)]

    def __init__(self, column: ColumnElement[int], name: str) -> None:
        self.column = column
        self.name = name


@compiles(InIds)
def _expanding_in(element: InIds, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column.in_(bindparam(element.name, expanding=True)), **kw)


@compiles(InIds, "postgresql")
def _any_of_array(element: InIds, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column == any_(bindparam(element.name, type_=ARRAY(Integer))), **kw)
