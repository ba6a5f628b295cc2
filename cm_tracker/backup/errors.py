"""The one error of the backup package: a check that failed, named, and why."""

from __future__ import annotations


class BackupError(Exception):
    """A backup or restore refused. `check` names what failed ("row count of ledger_entries", "key", "target
    empty", ...): the command prints it, exits 1, and has written nothing."""

    def __init__(self, check: str, message: str) -> None:
        super().__init__(f"{check}: {message}")
        self.check = check
        self.message = message
