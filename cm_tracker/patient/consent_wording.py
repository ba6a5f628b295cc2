"""The portal's words for Part 2 consents and the accounting of disclosures, in the patient's language.

The consent's own text (who may receive what, and why) is shown as staff recorded it from the signed form; this
module words everything around it: a consent's state, until when it holds, and why a request to withdraw one was
not sent. The services' messages stay in English for staff and the logs.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from cm_tracker.i18n import long_date
from cm_tracker.models import RecipientKind
from cm_tracker.services.core.consents import ConsentStatus
from cm_tracker.services.queries.consents import ConsentView
from cm_tracker.services.usecases.revocation_requests import ALREADY_REQUESTED, ALREADY_REVOKED, NOT_IN_EFFECT, refusal


@dataclass(frozen=True)
class State:
    badge: str  # a word or two beside the consent's name
    tone: str  # the badge's colour class: success, warn, off
    sentence: str  # the state in a full sentence


def state(view: ConsentView) -> State:
    """In effect, asked to withdraw (waiting for staff), withdrawn or ended."""
    if view.revocation is not None:
        return State(_("Withdrawn"), "off", _("You withdrew it on %(day)s.", day=long_date(view.revocation.revoked_on)))
    if view.status == ConsentStatus.EXPIRED and view.consent.expires_on is not None:
        return State(_("Ended"), "off", _("It ended on %(day)s.", day=long_date(view.consent.expires_on)))
    if view.revocation_request is not None:
        return State(_("Withdrawal asked"), "warn", asked(view))
    return State(_("In effect"), "success", _("In effect. You can withdraw it at any time."))


def asked(view: ConsentView) -> str:
    day = view.revocation_request.requested_on if view.revocation_request else None
    return _("You asked on %(day)s to withdraw it; the clinic will confirm.", day=long_date(day))


def until(view: ConsentView) -> str:
    """Until when the consent holds: its last day, the event it names (as signed), or whichever comes first."""
    day, event = view.consent.expires_on, view.consent.expiry_event
    if day and event:
        return _("%(day)s, or earlier: %(event)s", day=long_date(day), event=event)
    return long_date(day) if day else event or ""


def is_group(view: ConsentView) -> bool:
    """A treatment, payment and operations consent names a group of recipients rather than one person."""
    return view.consent.recipient_kind == RecipientKind.TPO_CLASS


def can_ask(view: ConsentView) -> bool:
    """Whether the card offers the button (the use case's own rule: in effect, and nobody has asked yet)."""
    return refusal(view) is None


def withdrawal_problem(code: str, view: ConsentView | None) -> str:
    """Why the request was not sent, in plain words: already asked (with the day), already withdrawn, or ended."""
    if code == ALREADY_REQUESTED and view is not None and view.revocation_request is not None:
        return _("You already asked on %(day)s to withdraw this consent. The clinic will confirm; there is nothing "
                 "more to do.", day=long_date(view.revocation_request.requested_on))
    if code == ALREADY_REQUESTED:
        return _("You already asked to withdraw this consent. The clinic will confirm; there is nothing more to do.")
    if code == ALREADY_REVOKED and view is not None and view.revocation is not None:
        return _("This consent was already withdrawn on %(day)s.", day=long_date(view.revocation.revoked_on))
    if code == NOT_IN_EFFECT:
        return _("This consent has already ended, so there is nothing to withdraw.")
    return _("This consent was already withdrawn.")
