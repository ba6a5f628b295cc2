"""What the patient does in the portal beyond reading: each page's read audited as a view of their own record, a
redemption looked up within their own (another patient's id is audited as refused), and the language choice."""

from __future__ import annotations

from sqlalchemy import select

from cm_tracker.extensions import db
from cm_tracker.models import Patient, Redemption, User
from cm_tracker.services.core import audit
from cm_tracker.services.core.errors import NotFound, ValidationFailed
from cm_tracker.services.usecases.access_log import log_now

SUPPORTED_LANGUAGES = ("en", "es")


def view(user: User, patient: Patient, page: str) -> None:
    """Audit one portal page as a read of the patient's own record."""
    log_now("patient.view", user=user, patient_id=patient.id, object_type="patient", object_id=patient.id,
            detail={"via": f"portal/{page}"})


def own_redemption(user: User, patient: Patient, redemption_id: int) -> Redemption:
    """One of the patient's own redemptions; another patient's id is simply not found, and the try is audited."""
    redemption = db.session.scalar(
        select(Redemption).where(Redemption.id == redemption_id, Redemption.patient_id == patient.id)
    )
    if redemption is None:
        log_now("redemption.view", user=user, outcome=audit.DENIED, patient_id=patient.id,
                object_type="redemption", object_id=redemption_id)
        raise NotFound("There is no such request.")
    return redemption


def choose_language(user: User, language: str) -> None:
    """Save the portal language the user picked; it wins over the browser's language from now on."""
    if language not in SUPPORTED_LANGUAGES:
        raise ValidationFailed("Choose a language.", fields={"language": "Choose English or Spanish."})
    if user.locale == language:
        return
    user.locale = language
    audit.record("user.language", user=user, object_type="user", object_id=user.id, detail={"locale": language})
    db.session.commit()
