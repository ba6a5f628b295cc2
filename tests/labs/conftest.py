"""The lab world: the clinic world's patient as MRN-001 (the record number of the sample files), a lab account,
and the clock pinned to the day after the samples' collection (Mon 30 Nov 2026)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from flask import Flask

from worlds.clinic import Clinic

LAB_NAME = "Acme integration"


@dataclass
class LabWorld:
    clinic: Clinic
    lab_user_id: int
    staff_id: int


@pytest.fixture
def lab(app: Flask, make_clinic: Callable[..., Clinic]) -> LabWorld:
    """The clinic world (escalating 10 + 5, stimulants = cocaine and methamphetamine) with Pat as MRN-001 and a lab
    account named "Acme integration"; inside this test's app context."""
    from cm_tracker.extensions import db
    from cm_tracker.models import Patient, Role, User

    clinic = make_clinic()
    db.session.get(Patient, clinic.patient_id).record_number = "MRN-001"
    user = User(username="acme", display_name=LAB_NAME, role=Role.LAB, password_hash="x")
    db.session.add(user)
    db.session.commit()
    return LabWorld(clinic, user.id, clinic.counselor_id)
