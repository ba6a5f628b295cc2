"""The manifest's check of the tamper-evident chain (services/core/chain.py): at create, every lane's head as the
snapshot holds it and a keyed fingerprint of AUDIT_CHAIN_KEY; at restore, inside the restore's transaction, the key
of the restoring app must give the same fingerprint, the whole restored chain must verify (every row of every lane,
by the same code as `flask audit verify`) and its heads must be the archive's.

The row checksums prove an archive is as it was written; they are plain SHA-256, which anyone who edits a row can
recompute. The chain's links are HMACs no one without the key can: a row edited in the archive, with its table's
checksum and the manifest's digest made to match, still fails here.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from cm_tracker.extensions import db
from cm_tracker.services.core.context import chain_key
from cm_tracker.services.queries import chain_check

HEADS_TABLE = "chain_heads"
KEY_CHECK_MESSAGE = b"cm-tracker backup key check"
WRONG_KEY = ("the key differs from the one the archive was made with: restore with the source's AUDIT_CHAIN_KEY "
             "(kept with the backup key)")


def key_check(key: bytes) -> str:
    """A fingerprint of the key that tells whether two keys are one without revealing either: HMAC(key, a fixed
    message), never the key itself."""
    return hmac.new(key, KEY_CHECK_MESSAGE, hashlib.sha256).hexdigest()


def _heads(connection: Connection) -> list[dict[str, Any]]:
    rows = connection.execute(text(f"SELECT chain, lane, sequence, link FROM {HEADS_TABLE} ORDER BY chain, lane"))
    return [{"table": str(chain), "lane": int(lane), "sequence": int(seq), "link": str(link)}
            for chain, lane, seq, link in rows]


def produce(connection: Connection) -> dict[str, Any] | None:
    """Every lane's head, read in the archive's snapshot, and the key's fingerprint; None for a schema from before
    the chain."""
    if not inspect(connection).has_table(HEADS_TABLE):
        return None
    return {"key_check": key_check(chain_key()), "heads": _heads(connection)}


def wrong_key(manifest: dict[str, Any]) -> str | None:
    """Before anything is loaded: whether this app's AUDIT_CHAIN_KEY is the one the archive was made with, so a
    wrong key is refused at once rather than after an hour of loading rows whose links it cannot check."""
    expected = manifest.get("checks", {}).get("chain")
    if expected and expected["key_check"] != key_check(chain_key()):
        return WRONG_KEY
    return None


def verify(connection: Connection, expected: dict[str, Any] | None) -> str | None:
    """What is wrong with the restored chain, or None. `expected` is None for an archive that carries no chain check
    (one of an earlier release): its chain is verified all the same, only without the heads and the key check."""
    if not inspect(connection).has_table(HEADS_TABLE):
        return None if expected is None else "the archive has a chain but the restored schema has no chain_heads"
    if expected is not None and expected["key_check"] != key_check(chain_key()):
        return WRONG_KEY
    with _app_session_on(connection):
        report = chain_check.check_chain()
    if not report.is_intact:
        found = "; ".join(str(b) for b in report.first_breaks)
        return found if expected is not None else f"{found} (or AUDIT_CHAIN_KEY is not the source's: this archive " \
                                                  "carries no key check)"
    if expected is not None:
        return _compare_heads(_heads(connection), expected["heads"])
    return None


def _compare_heads(found: list[dict[str, Any]], archived: list[dict[str, Any]]) -> str | None:
    def lanes(heads: list[dict[str, Any]]) -> dict[tuple[str, int], tuple[int, str]]:
        return {(h["table"], h["lane"]): (h["sequence"], h["link"]) for h in heads}

    restored, manifest = lanes(found), lanes(archived)
    for table, lane in sorted(restored.keys() | manifest.keys()):
        here, there = restored.get((table, lane)), manifest.get((table, lane))
        if here != there:
            seen = f"at place {here[0]}" if here else "missing"
            said = f"at place {there[0]}" if there else "no such lane"
            return f"the head of {table} lane {lane} is {seen} where the manifest has {said}"
    return None


@contextmanager
def _app_session_on(connection: Connection) -> Iterator[None]:
    """The verification reads through the app's session: for its run, that session is one on the restore's
    connection, joining its transaction (it only reads, and closing it leaves the transaction to the restore)."""
    registry = db.session.registry
    previous = registry() if registry.has() else None
    session = Session(bind=connection)  # joins the transaction under way, and never ends it
    registry.set(session)
    try:
        yield
    finally:
        session.close()
        if previous is None:
            registry.clear()
        else:
            registry.set(previous)
