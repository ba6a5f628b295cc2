"""The demo clinic's Part 2 records (docs/part2.md), so its consent, disclosure and privacy pages have something to
show: the first portal patient signed a consent for their primary-care doctor and a treatment-and-payment consent
for their health plan, and the doctor received a packet of results and attendance a few days later; the second
portal patient signed a consent for their probation officer and asked in the portal, two days ago, to withdraw it,
a request that waits for staff on the Consents page. Each step goes through the use cases a counselor's page or the
portal calls, under the clock of its moment (demo_history.replay)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select

from cm_tracker.extensions import db
from cm_tracker.models import Patient, RecipientKind, User
from cm_tracker.services.usecases import consents, revocation_requests
from cm_tracker.services.usecases.consents import ConsentInput, DisclosureInput
from cm_tracker.services.usecases.disclosure_packets import PacketChoice
from cm_tracker.tooling.demo_history import Clinic, PatientPlan, Story, at

DOCTOR = "Dr. Ana Ruiz, Westside Primary Care"


def part2_story(clinic: Clinic, first: PatientPlan, second: PatientPlan) -> Story:
    """Each patient's consents once they are in the programme (a patient exists from their first day), the steps in
    the order of their moments, as replay asks."""
    today = clinic.today
    signed = max(first.start_on + timedelta(days=1), today - timedelta(days=20))
    sent = min(max(signed + timedelta(days=5), today - timedelta(days=7)), today - timedelta(days=1))
    probation_signed = max(second.start_on + timedelta(days=1), today - timedelta(days=30))
    made: dict[str, int] = {}

    def doctor() -> None:
        made["doctor"] = consents.record_consent(_patient(first), ConsentInput(
            information="Urine drug test results and attendance at the contingency management programme",
            recipient=DOCTOR, purpose="Coordinating my primary care", signed_on=signed,
            expires_on=today + timedelta(days=160)), actor=first.counselor).consent.id

    def health_plan() -> None:
        consents.record_consent(_patient(first), ConsentInput(
            information="Records of my treatment and of the rewards I earned",
            recipient="My health plan and its claims processors", recipient_kind=RecipientKind.TPO_CLASS.value,
            purpose="Payment for my treatment", signed_on=signed, expiry_event="When I leave the programme"),
            actor=first.counselor)

    def packet() -> None:
        consents.record_disclosure(_patient(first), DisclosureInput(
            consent_id=made["doctor"], recipient=DOCTOR, description="", disclosed_on=sent), actor=first.counselor,
            packet=PacketChoice(start=max(first.start_on, sent - timedelta(days=30)), end=sent,
                                sections=("results", "attendance")))

    def probation() -> None:
        made["probation"] = consents.record_consent(_patient(second), ConsentInput(
            information="Whether I attend and my test results", recipient="Officer J. Bell, County Adult Probation",
            purpose="Reports my probation terms require", signed_on=probation_signed,
            expires_on=today + timedelta(days=300)), actor=second.counselor).consent.id

    def withdrawal() -> None:
        patient = _patient(second)
        user = db.session.scalar(select(User).where(User.patient_id == patient.id))
        if user is not None:  # the second portal account's patient
            revocation_requests.request_revocation(patient, made["probation"], "My probation ended last week.",
                                                   actor=user)

    steps: list[tuple[datetime, Callable[[], None]]] = [
        (at(signed, 11, 40), doctor), (at(signed, 11, 55), health_plan), (at(sent, 15, 10), packet),
        (at(probation_signed, 10, 20), probation),
        (at(max(today - timedelta(days=2), probation_signed), 19, 45), withdrawal)]
    for moment, step in sorted(steps, key=lambda s: s[0]):
        yield moment
        step()


def _patient(plan: PatientPlan) -> Patient:
    found = db.session.scalar(select(Patient).where(Patient.record_number == plan.record_number))
    assert found is not None, plan.record_number
    return found
