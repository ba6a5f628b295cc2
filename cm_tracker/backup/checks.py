"""The manifest's "checks": facts about the database beyond its rows, each produced inside the archive's snapshot
and verified against the restored database before the restore commits.

This is the extension point for anything a restore must prove (the head of a tamper-evident chain, say): add a
Check to CHECKS. An archive naming a check this release does not know is refused, since it cannot be verified.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from cm_tracker.backup import chain


@dataclass(frozen=True)
class Check:
    """`produce` reads the source inside the snapshot; `verify` reads the restored database and returns what is
    wrong, or None. A `required` check is verified even when an archive does not carry it (with None expected), so
    that removing it from a manifest does not skip it."""

    produce: Callable[[Connection], Any]
    verify: Callable[[Connection, Any], str | None]
    required: bool = False


def _ledger_sums(connection: Connection) -> dict[str, Any]:
    """Each enrolment's points, draws and value, summed by the database itself: a restore that loaded every row but lost
    or changed a balance on the way would fail here as well as on the checksums."""
    rows = connection.execute(text(
        "SELECT enrollment_id, sum(points), sum(draws), sum(value_cents) FROM ledger_entries "
        "GROUP BY enrollment_id ORDER BY enrollment_id")).all()
    sums = [(int(e), int(p), int(d), int(v)) for e, p, d, v in rows]
    digest = hashlib.sha256("".join(f"{e}:{p}:{d}:{v}\n" for e, p, d, v in sums).encode()).hexdigest()
    return {"enrollments": len(sums), "points": sum(s[1] for s in sums), "draws": sum(s[2] for s in sums),
            "value_cents": sum(s[3] for s in sums), "sha256": digest}


def _verify_ledger_sums(connection: Connection, expected: Any) -> str | None:
    found = _ledger_sums(connection)
    return None if found == expected else f"the restored ledger sums to {found}, the archive's to {expected}"


CHECKS: dict[str, Check] = {
    "ledger_sums": Check(_ledger_sums, _verify_ledger_sums),
    "chain": Check(chain.produce, chain.verify, required=True),
}
