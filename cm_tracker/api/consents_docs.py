"""The OpenAPI description of cm_tracker/api/consents.py: Part 2 consents, revocations and disclosures."""

from __future__ import annotations

from typing import Any

from cm_tracker.api.openapi import document, operation
from cm_tracker.api.openapi_schemas import DATE, DATETIME, DAY, ID, INT, body, nullable, obj, ref, text
from cm_tracker.services.queries.disclosure_records import SECTIONS
from cm_tracker.services.usecases.disclosure_packets import LANGUAGES

_STRING = {"type": "string"}
_CONSENT = obj({
    "id": INT, "patient_id": INT,
    "status": {"enum": ["active", "expired", "revoked"], "description": "On the clinic's date today."},
    "discloser": _STRING, "information": _STRING, "recipient_kind": {"enum": ["named", "tpo_class"]},
    "recipient": {**_STRING, "description": "The named recipient, or for tpo_class the class of recipients."},
    "purpose": _STRING, "signed_on": DATE, "expires_on": nullable(DATE), "expiry_event": nullable(_STRING),
    "recorded_by": nullable(_STRING), "created_at": DATETIME, "revoked_on": nullable(DATE),
    "revoked_by": nullable(_STRING), "revocation_note": nullable(_STRING),
    "revocation_requested_on": nullable(DATE)})
_DISCLOSURE = obj({
    "id": INT, "disclosed_on": DATE, "recipient": _STRING, "description": _STRING, "consent_id": INT,
    "recorded_by": nullable(_STRING), "purpose": {**_STRING, "description": "The consent's purpose."},
    "recipient_class": {**nullable(_STRING),
                        "description": "The consent's class of recipients (tpo_class consents); else null."},
    "packet": {**nullable(obj({
        "from": DATE, "to": DATE, "include": {"type": "array", "items": {"enum": list(SECTIONS)}},
        "language": {"enum": list(LANGUAGES)},
        "digest": {**_STRING, "description": "sha256 of the records as they left, printed on the packet."},
        "url": {**_STRING, "description": "The staff page that prints the packet again (audited as an export)."}})),
        "description": "The packet cm-tracker printed for this disclosure; null for records sent outside it."}})
_RECORDS = body({
    "from": DAY, "to": {**DAY, "description": "Not after disclosed_on, nor before from."},
    "include": {"type": "array", "items": {"enum": list(SECTIONS)}, "minItems": 1, "maxItems": len(SECTIONS),
                "uniqueItems": True, "description": "The kinds of record the packet carries."},
    "language": {"enum": list(LANGUAGES), "description": "The packet's language; en by default."}},
    ["from", "to", "include"],
    description="The patient's records of those kinds dated from `from` to `to` (the clinic's dates), copied into "
                "the disclosure's packet as they stand now, with the 42 CFR 2.32 notice and the consent.")
_WINDOW = [
    {"name": "from", "in": "query", "schema": DAY,
     "description": "First day of the accounting; by default the same date three years ago. Not before 1990, "
                    "not after today (else 422)."},
    {"name": "to", "in": "query", "schema": DAY,
     "description": "Last day; by default today (the clinic's date). Not after today, nor before from (else 422)."}]


def _windowed(op: dict[str, Any]) -> dict[str, Any]:
    op["parameters"] = [*op.get("parameters", []), *_WINDOW]
    return op


def describe() -> None:
    document({
        "/patients/{patient_id}/consents": {
            "post": operation(
                "Record a consent the patient signed (42 CFR 2.31; admin, manager, the patient's counselor): what "
                "may be disclosed, to whom (a named recipient, or a class for a treatment/payment/operations "
                "consent), why, and its expiry (a date, an event, or both). The discloser defaults to the clinic.",
                ("201", "Consent", "The consent with its status."), body="ConsentCreate", errors=("404",),
                params=("patient_id",)),
            "get": operation("A patient's consents, the latest signed first, with their status (audited).",
                             ("200", "ConsentList", "Every consent, revoked and expired ones too."),
                             errors=("404",), params=("patient_id",))},
        "/consents/{consent_id}/revocation": {"post": operation(
            "Record the patient's revocation of a consent from revoked_on (on or after its signature, not after "
            "today). Disclosures from that day on are refused; earlier ones stay in the accounting. A second "
            "revocation is 409 already_revoked.",
            ("200", "Consent", "The consent, now revoked."), body="RevocationCreate", errors=("404", "409"),
            params=("consent_id",))},
        "/patients/{patient_id}/disclosures": {
            "post": operation(
                "Record a disclosure made under one of the patient's consents. 409 no_consent unless that consent "
                "is the patient's, holds on disclosed_on (signed on or before, not expired, not revoked on or "
                "before) and names the recipient (case and spacing aside; any recipient for a tpo_class consent, "
                "whose class the accounting shows); then nothing is written. With records, the patient's records "
                "of the period are copied into the disclosure's packet in the same transaction (packet.url prints "
                "it); a refusal names its fields records.from, records.to, records.include, records.language.",
                ("201", "Disclosure", "The disclosure as recorded."), body="DisclosureCreate",
                errors=("404", "409"), params=("patient_id",)),
            "get": _windowed(operation(
                "The accounting of disclosures (42 CFR 2.25): the latest first, the past three years by default "
                "(audited).", ("200", "DisclosureList", "The window and the disclosures in it."),
                errors=("404",), params=("patient_id",)))},
        "/me/consents": {"get": operation("Your own consents (patients).",
                                          ("200", "ConsentList", "Every consent of yours."))},
        "/me/disclosures": {"get": _windowed(operation(
            "Who has received your records: your accounting of disclosures (patients).",
            ("200", "DisclosureList", "The window and the disclosures in it.")))},
        "/me/consents/{consent_id}/revocation-request": {"post": operation(
            "Ask the clinic to revoke one of your consents (patients), with an optional note. From today no "
            "disclosure under it is accepted; staff then record the revocation itself. 409 already_revoked, "
            "already_requested (asked once per consent) or not_in_effect (expired); another patient's consent is 404.",
            ("201", "Consent", "The consent, with revocation_requested_on today."), body="RevocationRequestCreate",
            errors=("404", "409"), params=("consent_id",))},
    }, {
        "Consent": _CONSENT,
        "ConsentList": obj({"consents": {"type": "array", "items": ref("Consent")}}),
        "ConsentCreate": body({
            "recipient": text(200, min_length=1), "recipient_kind": {"enum": ["named", "tpo_class"]},
            "purpose": text(1000, min_length=1), "information": text(2000, min_length=1), "signed_on": DAY,
            "expires_on": {**DAY, "description": "The last day it holds; this or expiry_event is required."},
            "expiry_event": text(500, description="The event or condition on which it expires."),
            "discloser": text(200, description="Who may disclose; by default the clinic's name.")},
            ["recipient", "purpose", "information", "signed_on"]),
        "RevocationCreate": body({"revoked_on": DAY, "note": text(1000)}, ["revoked_on"]),
        "RevocationRequestCreate": body({"note": text(1000, description="Your own words for the clinic.")}, []),
        "Disclosure": _DISCLOSURE,
        "DisclosureList": obj({"from": DATE, "to": DATE,
                               "disclosures": {"type": "array", "items": ref("Disclosure")}}),
        "DisclosureCreate": body({
            "consent_id": ID, "recipient": text(200, min_length=1),
            "description": text(2000, description="What was disclosed: required without records; with records a "
                                                  "blank one is built from them."),
            "disclosed_on": DAY, "records": _RECORDS}, ["consent_id", "recipient", "disclosed_on"]),
    })
