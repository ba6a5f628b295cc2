"""Checking the tamper-evident chain (services/core/chain.py) against what the database holds now.

Each lane is read in order of place and every row's link recomputed from its content and the previous row's link:
a row changed outside cm-tracker no longer matches its link; a row removed leaves a gap in its lane's places, and
the lane's last rows removed leave it ending before its head; a row inserted outside cm-tracker carries no link, or
one that does not match, or takes a place already taken. A range (`from_id`) checks each lane from its first row
at or after that id, chained to the row before it as the last check left it: quick for a nightly run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Table, and_, func, select

from cm_tracker.extensions import db
from cm_tracker.models import ChainHead, ChainVerification
from cm_tracker.services.core import chain
from cm_tracker.services.core.context import chain_key

CHANGED = "its content does not match its link (changed outside cm-tracker)"
UNCHAINED = "it carries no link (inserted outside cm-tracker, or written before the chain began and never chained)"
TWICE = "it takes a place in its chain another row holds (inserted outside cm-tracker)"
STREAM = 5000  # rows fetched at a time: a million ledger rows never sit in memory at once
_heads = ChainHead.__table__


@dataclass(frozen=True)
class Break:
    table: str
    row_id: int | None
    problem: str

    def __str__(self) -> str:
        return f"{self.table} row {self.row_id}: {self.problem}" if self.row_id is not None else \
            f"{self.table}: {self.problem}"


@dataclass
class TableCheck:
    table: str
    rows: int = 0
    breaks: list[Break] = field(default_factory=list)

    @property
    def first(self) -> Break | None:
        """The earliest row found wrong (a lane that lost every row names no row, and comes last)."""
        return min(self.breaks, key=lambda b: (b.row_id is None, b.row_id or 0), default=None)


@dataclass(frozen=True)
class ChainReport:
    audit: TableCheck
    ledger: TableCheck

    @property
    def is_intact(self) -> bool:
        return not self.audit.breaks and not self.ledger.breaks

    @property
    def first_breaks(self) -> list[Break]:
        return [check.first for check in (self.audit, self.ledger) if check.first is not None]


def check_chain(from_ids: dict[str, int] | None = None,
                progress: Callable[[str, int], None] = lambda table, rows: None) -> ChainReport:
    """Check both chains whole, or from `from_ids[table]` on."""
    checks = [check_table(name, (from_ids or {}).get(name), progress) for name in (chain.AUDIT, chain.LEDGER)]
    return ChainReport(*checks)


def first_ids_since(moment: datetime) -> dict[str, int]:
    """Per table, the first row written at or after `moment` (by the time columns the tables are indexed on)."""
    found = {}
    for name, column in ((chain.AUDIT, "occurred_at"), (chain.LEDGER, "created_at")):
        table = _table(name)
        first = db.session.scalar(select(func.min(table.c.id)).where(table.c[column] >= moment))
        found[name] = int(first) if first is not None else int(db.session.scalar(
            select(func.coalesce(func.max(table.c.id), 0))) or 0) + 1
    return found


def check_table(name: str, from_id: int | None,
                progress: Callable[[str, int], None] = lambda table, rows: None) -> TableCheck:
    key, table, check = chain_key(), _table(name), TableCheck(name)
    heads = {int(h.lane): (int(h.sequence), str(h.link))
             for h in db.session.execute(select(_heads.c.lane, _heads.c.sequence, _heads.c.link)
                                         .where(_heads.c.chain == name))}
    seen: set[int] = set()
    lane: _Lane | None = None
    for row in _rows(table, from_id):
        if lane is None or row.chain_lane != lane.lane:
            if lane is not None:
                lane.close(check)
            lane = _Lane(name, int(row.chain_lane), _head(name, int(row.chain_lane), heads),
                         anchored=from_id is not None)
            seen.add(lane.lane)
        lane.take(key, row, check)
        check.rows += 1
        if check.rows % 100_000 == 0:
            progress(name, check.rows)
    if lane is not None:
        lane.close(check)
    _cut_lanes(table, heads, seen, whole=from_id is None, check=check)
    _unchained(table, from_id, check)
    return check


def _cut_lanes(table: Table, heads: dict[int, tuple[int, str]], seen: set[int], *, whole: bool,
               check: TableCheck) -> None:
    """The lanes no row of the check was read from: their heads must say they are as long as they are (a range
    whose rows of a lane were all removed, or a lane removed whole)."""
    unread = {lane: head for lane, head in heads.items() if lane not in seen and head[0] > 0}
    if not unread:
        return
    # Every lane's length at once (the lanes' index alone answers it): a list of thousands of enrolments' lanes
    # would pass the databases' limit on parameters.
    lengths = {} if whole else dict(db.session.execute(
        select(table.c.chain_lane, func.max(table.c.chain_seq)).where(table.c.chain_lane.is_not(None))
        .group_by(table.c.chain_lane)).all())
    for lane, (sequence, _link) in sorted(unread.items()):
        length = int(lengths.get(lane) or 0)
        if length < sequence:
            check.breaks.append(Break(table.name, None, f"{_rows_word(sequence - length)} at the end of lane {lane} "
                                                        f"{'is' if sequence - length == 1 else 'are'} missing "
                                                        "(removed outside cm-tracker)"))


def _head(name: str, lane: int, heads: dict[int, tuple[int, str]]) -> tuple[int, str] | None:
    """The lane's head as read before its rows, or now for a lane begun since (an enrolment's first entry)."""
    if lane in heads:
        return heads[lane]
    found = db.session.execute(select(_heads.c.sequence, _heads.c.link)
                               .where(_heads.c.chain == name, _heads.c.lane == lane)).first()
    return (int(found.sequence), str(found.link)) if found is not None else None


class _Lane:
    """One lane read in order of place: the place and link the next row must follow, and the lane's head as read
    before its rows. Rows past the head were written since it was read (the check does not stop the clinic): their
    links are checked like any other, and the head must match the row at its own place."""

    def __init__(self, table: str, lane: int, head: tuple[int, str] | None, *, anchored: bool) -> None:
        self.table, self.lane, self.head, self.anchored = table, lane, head, anchored
        self.seq, self.link, self.last_id, self.at_head = 0, "", 0, ""

    def take(self, key: bytes, row: Row[Any], check: TableCheck) -> None:
        seq, stored = int(row.chain_seq), str(row.chain_hmac)
        if self.anchored:  # a range's first row: the row before it is where the last check left the lane
            self.anchored = False
            if seq > 1:
                self.seq, self.link, self.last_id = seq, stored, int(row.id)
                self._reached(seq, stored)
                return
        if seq <= self.seq:
            check.breaks.append(Break(self.table, int(row.id), TWICE))
        elif seq > self.seq + 1:
            missing = seq - self.seq - 1
            check.breaks.append(Break(self.table, int(row.id), f"the {_rows_word(missing)} before it in its chain "
                                                               f"{'is' if missing == 1 else 'are'} missing (removed "
                                                               "outside cm-tracker)"))
        elif chain.link_of(key, self.link, self.table, self.lane, seq, row._mapping) != stored:
            check.breaks.append(Break(self.table, int(row.id), CHANGED))
        # Go on from the stored link, so that one changed row is reported alone rather than every row after it.
        self.seq, self.link, self.last_id = max(seq, self.seq), stored, int(row.id)
        self._reached(seq, stored)

    def _reached(self, seq: int, stored: str) -> None:
        if self.head is not None and seq == self.head[0]:
            self.at_head = stored

    def close(self, check: TableCheck) -> None:
        head = self.head
        if head is None:
            check.breaks.append(Break(self.table, self.last_id, "its lane has no head (inserted outside cm-tracker)"))
        elif head[0] > self.seq:
            missing = head[0] - self.seq
            check.breaks.append(Break(self.table, self.last_id, f"the {_rows_word(missing)} after it, the last of "
                                                                "its chain, "
                                                                f"{'is' if missing == 1 else 'are'} missing (removed "
                                                                "outside cm-tracker)"))
        elif head[0] > 0 and head[1] != self.at_head:
            check.breaks.append(Break(self.table, self.last_id, "its chain's head does not match its link (changed "
                                                                "outside cm-tracker)"))


def _rows_word(count: int) -> str:
    return "row" if count == 1 else f"{count} rows"


def _rows(table: Table, from_id: int | None) -> Iterator[Row[Any]]:
    """The chained rows in order of lane and place; from `from_id`: each lane from the row before its first row at
    or after that id (by place, not id: rows of one commit may be numbered in another order)."""
    columns = [table.c.id, table.c.chain_lane, table.c.chain_seq, table.c.chain_hmac,
               *(table.c[name] for name in chain.CHAINED[table.name])]
    query = select(*columns).where(table.c.chain_lane.is_not(None))
    if from_id is not None:
        starts = (select(table.c.chain_lane.label("lane"), func.min(table.c.chain_seq).label("first"))
                  .where(table.c.id >= from_id, table.c.chain_lane.is_not(None))
                  .group_by(table.c.chain_lane).subquery())
        query = query.join(starts, and_(table.c.chain_lane == starts.c.lane, table.c.chain_seq >= starts.c.first - 1))
    statement = query.order_by(table.c.chain_lane, table.c.chain_seq, table.c.id)
    yield from db.session.execute(statement, execution_options={"yield_per": STREAM})


def _unchained(table: Table, from_id: int | None, check: TableCheck) -> None:
    condition = table.c.chain_hmac.is_(None)
    if from_id is not None:
        condition = and_(condition, table.c.id >= from_id)
    count, first = db.session.execute(select(func.count(), func.min(table.c.id)).where(condition)).one()
    if count:
        check.rows += int(count)
        check.breaks.append(Break(table.name, int(first), UNCHAINED if count == 1 else
                                  f"{UNCHAINED}; {int(count) - 1} more rows carry none"))


def _table(name: str) -> Table:
    return db.metadata.tables[name]


def last_verification() -> ChainVerification | None:
    """The latest `flask audit verify` run, for the admin's audit page."""
    return db.session.scalar(select(ChainVerification).order_by(ChainVerification.id.desc()).limit(1))
