"""What a correction did, for the desk: each adjustment named by the test (or session) it belongs to, the net change,
and the sentence the counselor reads out; and a record's version history (who changed it, when and why)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from cm_tracker.engine.text import count, join_words
from cm_tracker.extensions import db
from cm_tracker.models import AttendanceRecord, Enrollment, EntryKind, LedgerEntry, RecordType, RecordVersion, Specimen
from cm_tracker.money import format_cents
from cm_tracker.services.core.balances import Balance, balance_of
from cm_tracker.services.core.clinic import clinic_date

EVENT_NAMES = {"specimen": "Test", "attendance": "Session", "activity": "Activity"}


@dataclass(frozen=True)
class Adjustment:
    """One adjustment entry, detached from the session, with the event it belongs to named for a reader."""

    target: str | None
    points: int
    draws: int
    value_cents: int
    reason: str
    event_type: str | None
    event_id: int | None
    event_on: date | None = None  # the clinic day of the test or session the adjustment changes
    label: str = ""  # the target's name in its programme

    @property
    def names(self) -> str:
        """'Test of Mon 09 Nov 2026 · stimulants': which event and target this amount belongs to."""
        event = EVENT_NAMES.get(self.event_type or "", "Entry")
        when = f" of {self.event_on:%a %d %b %Y}" if self.event_on else ""
        return f"{event}{when} · {self.label or self.target or ''}".rstrip(" ·")


@dataclass(frozen=True)
class NetChange:
    points: int = 0
    draws: int = 0
    value_cents: int = 0

    @property
    def is_nothing(self) -> bool:
        return not (self.points or self.draws)

    @property
    def text(self) -> str:
        """'+15 points ($3.75)', '-10 points (-$2.50) and +1 prize draw', 'nothing'."""
        parts = []
        if self.points:
            parts.append(f"{'+' if self.points > 0 else '-'}{_points(abs(self.points), self.value_cents)}")
        if self.draws:
            parts.append(f"{'+' if self.draws > 0 else '-'}{count(abs(self.draws), 'prize draw')}")
        return join_words(parts) or "nothing"


def _points(points: int, value_cents: int) -> str:
    return f"{count(points, 'point')} ({format_cents(value_cents)})" if value_cents else count(points, "point")


def detach(entry: LedgerEntry, labels: Mapping[str, str]) -> Adjustment:
    """An entry as an Adjustment, its event named by the day it happened (the entry's `occurred_at`)."""
    return Adjustment(entry.target_key, entry.points, entry.draws, entry.value_cents, entry.reason,
                      str(entry.event_type) if entry.event_type else None, entry.event_id,
                      clinic_date(entry.occurred_at) if entry.occurred_at else None,
                      labels.get(entry.target_key or "", entry.target_key or ""))


def labels_of(record: Specimen | AttendanceRecord) -> dict[str, str]:
    """The record's programme's target names, by key (a session mark has no enrolment relationship of its own)."""
    enrollment = db.session.get(Enrollment, record.enrollment_id)
    return {t.key: t.label for t in enrollment.program.targets} if enrollment else {}


def net_change(adjustments: Iterable[Adjustment]) -> NetChange:
    found = list(adjustments)
    return NetChange(sum(a.points for a in found), sum(a.draws for a in found), sum(a.value_cents for a in found))


def history(record_type: RecordType, record_id: int) -> list[RecordVersion]:
    """Every version of a record, newest first, with who changed it, when and why."""
    return list(db.session.scalars(
        select(RecordVersion).where(RecordVersion.record_type == record_type, RecordVersion.record_id == record_id)
        .order_by(RecordVersion.version.desc())))


@dataclass(frozen=True)
class Posted:
    """The confirmation of a correction: the record as it now is, every adjustment the correction posted (on this
    record's event or on later ones whose streak it changed), their net change, and what to tell the patient."""

    record: Specimen | AttendanceRecord
    is_test: bool  # a specimen (else a session mark)
    day: date
    adjustments: list[Adjustment]
    net: NetChange
    balance: Balance
    sentence: str


def posted_correction(record: Specimen | AttendanceRecord, entry_ids: Iterable[int]) -> Posted:
    """The adjustments of `entry_ids` that belong to the record's enrolment (ids the correction's confirmation
    carries in its link; others are ignored), oldest event first."""
    ids = set(entry_ids)
    entries = list(db.session.scalars(select(LedgerEntry).where(
        LedgerEntry.id.in_(ids), LedgerEntry.enrollment_id == record.enrollment_id,
        LedgerEntry.kind == EntryKind.ADJUSTMENT).order_by(LedgerEntry.occurred_at, LedgerEntry.id))) if ids else []
    adjustments = [detach(e, labels_of(record)) for e in entries]
    net, balance = net_change(adjustments), balance_of(record.patient_id)
    is_test = isinstance(record, Specimen)
    day = clinic_date(record.collected_at if isinstance(record, Specimen) else record.occurred_at)
    return Posted(record, is_test, day, adjustments, net, balance,
                  correction_sentence("test" if is_test else "session", day, net, balance))


def correction_sentence(what: str, day: date, net: NetChange, balance: Balance) -> str:
    """What the counselor reads out after a correction, naming the corrected event's day (it is rarely today): "Your
    test of Mon 09 Nov 2026 is corrected: you get 15 points ($3.75) more. Your balance is now 65 points ($16.25)." """
    gained = NetChange(max(net.points, 0), max(net.draws, 0), max(net.value_cents, 0) if net.points > 0 else 0)
    lost = NetChange(min(net.points, 0), min(net.draws, 0), min(net.value_cents, 0) if net.points < 0 else 0)
    said = []
    if not gained.is_nothing:
        said.append(f"you get {_amount(gained)} more")
    if not lost.is_nothing:
        said.append(f"{_amount(lost)} {'is' if abs(lost.points) + abs(lost.draws) == 1 else 'are'} taken back")
    change = join_words(said) or "what you earned does not change"
    held = _points(balance.points, balance.value_cents)
    if balance.draws:
        held += f" and {count(balance.draws, 'prize draw')} waiting"
    return f"Your {what} of {day:%a %d %b %Y} is corrected: {change}. Your balance is now {held}."


def _amount(net: NetChange) -> str:
    parts = []
    if net.points:
        parts.append(_points(abs(net.points), abs(net.value_cents)))
    if net.draws:
        parts.append(count(abs(net.draws), "prize draw"))
    return join_words(parts)
