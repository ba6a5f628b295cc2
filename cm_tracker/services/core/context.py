"""What the services need to know of the world around them, asked through one small interface, so that no service
reads Flask's request, current user or app config: who acts and from where (an audit row's actor and source), and
the clinic's settings (its time zone and name).

`create_app` installs the adapter that answers from the request and the app (cm_tracker/request_context.py). Until one
is installed (the services used without the app), nobody acts, the source is "cli", and asking for the clinic's
settings is an error: there is no safe default time zone for a clinic's calendar.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo

from cm_tracker.models import User


@dataclass(frozen=True)
class AuditSource:
    """Who acts (None: nobody is signed in, or a command runs) and from which address ("cli" outside a request)."""

    actor: User | None
    address: str


@dataclass(frozen=True)
class ClinicSettings:
    timezone: ZoneInfo
    name: str


class Context(Protocol):
    def audit_source(self) -> AuditSource: ...

    def clinic_settings(self) -> ClinicSettings: ...

    def chain_key(self) -> bytes: ...


OUTSIDE_A_REQUEST = AuditSource(actor=None, address="cli")


class _NotInstalled:
    def audit_source(self) -> AuditSource:
        return OUTSIDE_A_REQUEST

    def clinic_settings(self) -> ClinicSettings:
        raise RuntimeError("The clinic's settings come from the app's configuration: create_app installs them.")

    def chain_key(self) -> bytes:
        raise RuntimeError("The chain's key is AUDIT_CHAIN_KEY of the app's configuration: create_app installs it.")


_installed: list[Context] = [_NotInstalled()]


def install(context: Context) -> None:
    _installed[0] = context


def audit_source() -> AuditSource:
    return _installed[0].audit_source()


def clinic_settings() -> ClinicSettings:
    return _installed[0].clinic_settings()


def chain_key() -> bytes:
    """The HMAC key of the audit trail's and the ledger's chain (AUDIT_CHAIN_KEY)."""
    return _installed[0].chain_key()
