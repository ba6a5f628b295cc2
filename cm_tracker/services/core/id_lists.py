"""`InIds`: a column among a list of ids bound at execution, for statements built once per process (the caseload's
balances, visits and requests; the balance read's standings)."""

from __future__ import annotations

from typing import Any

from psycopg.types.numeric import Int4
from sqlalchemy import Boolean, ColumnElement, Dialect, Integer, TypeDecorator, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal


class InIds(ColumnElement[bool]):
    """The column is one of the ids bound as `name` at execution, for statements built once and run with a
    caseload's ids: an expanding IN on SQLite, `column = ANY(%(name)s::INTEGER[])` (one parameter) on PostgreSQL.
    There an expanding IN over 150 patients is a statement of 150 parameters and 4,000 to 12,000 characters, which
    psycopg neither prepares (more than 50 parameters) nor caches the conversion of (longer than 4,096 characters):
    it was split with a regular expression, then parsed and planned by the server anew on every page."""

    inherit_cache = True
    type = Boolean()
    # A comparison, not a boolean column: without this SQLite (no native booleans) is sent `x IN (...) = 1`,
    # which no index serves: the standings scanned the whole ledger.
    _is_implicitly_boolean = True
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement), ("name", InternalTraversal.dp_string),
                           ("single", InternalTraversal.dp_boolean)]

    def __init__(self, column: ColumnElement[int], name: str, single: bool = False) -> None:
        """`single`: the statement's variant for one id, bound as a plain integer (`column = :name`). PostgreSQL
        plans a prepared statement anew on every run while it judges a generic plan costlier than the one it makes
        for the values at hand, and against `= ANY(array)` (an array of unknown length) it always does: the
        standings of one patient, read on every balance, desk result and portal page, spent 0.42 ms planning for
        0.11 ms running. Against `= $1` the generic plan is as cheap, kept after five runs: 0.57 -> 0.21 ms."""
        self.column = column
        self.name = name
        self.single = single


@compiles(InIds)
def _expanding_in(element: InIds, compiler: SQLCompiler, **kw: Any) -> str:
    if element.single:
        return compiler.process(element.column == bindparam(element.name, type_=Integer()), **kw)
    return compiler.process(element.column.in_(bindparam(element.name, expanding=True)), **kw)


class IdArray(TypeDecorator[list[int]]):
    """An id list sent to PostgreSQL as the `integer[]` it is compared with. psycopg sends a list of small Python
    ints as `smallint[]` (it picks each int's type by its size), which the statement casts to `integer[]`: in a
    plan made for the values at hand the cast is done once, but PostgreSQL keeps a prepared statement's generic
    plan after five runs, and there the cast runs again for every row tested, 150 ids converted per row (the
    caseload's standings ran 10% slower on their generic plan than on a fresh one)."""

    impl = ARRAY(Integer)
    cache_ok = True

    def process_bind_param(self, value: list[int] | None, dialect: Dialect) -> list[Int4] | None:
        return None if value is None else [Int4(v) for v in value]


@compiles(InIds, "postgresql")
def _any_of_array(element: InIds, compiler: SQLCompiler, **kw: Any) -> str:
    if element.single:
        return _expanding_in(element, compiler, **kw)  # one integer, as on SQLite
    return compiler.process(element.column == any_(bindparam(element.name, type_=IdArray())), **kw)
