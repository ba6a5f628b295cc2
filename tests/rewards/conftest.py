"""Rewards fixtures: a voucher catalog for the personas' programme and a prize-draw programme with a cabinet."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from flask import Flask

from helpers import PASSWORD

# Every slip wins a small prize, so that tests of hand-overs need no luck.
BOWL = [{"tier": "good_job", "slips": 0, "value_cents": 0}, {"tier": "small", "slips": 1, "value_cents": 100},
        {"tier": "large", "slips": 0, "value_cents": 2000}]
PRIZE_SCHEDULE = {"kind": "prize_draws", "start_draws": 1, "step_draws": 1, "bowl": BOWL}


@dataclass
class Shop:
    """Ids of the rewards world: vouchers of the personas' programme and the prize programme's cabinet."""

    card: int  # $10 gift card, 40 points, 5 in stock
    bus_pass: int  # $5 bus pass, 20 points, unlimited
    prize_program: int
    draw_patient: int
    small_prize: int  # 2 in stock
    last_prize: int  # 1 in stock
    second_counselor: int


@pytest.fixture
def shop(app: Flask, personas: Any) -> Shop:
    """The shop world, on top of the personas: a $10 grocery gift card (40 points, 5 in stock) in the personas'
    programme and a $5 bus pass (20 points, not stocked); a "Prize draws" programme whose every slip wins a small
    prize, with Dana Draws (MRN-010, Cora's) enrolled from 2 Nov 2026 and a cabinet of a water bottle (2 in stock)
    and a lip balm (1); a second counselor, Sam."""
    from cm_tracker.extensions import db
    from cm_tracker.models import (
        CapWindow,
        Enrollment,
        Patient,
        Program,
        ProgramTarget,
        ScheduleVersion,
        TargetKind,
        User,
    )
    from cm_tracker.services.usecases import accounts, catalog

    with app.app_context():
        manager = db.session.get(User, personas.manager)
        card = catalog.create_reward(catalog.RewardInput(name="Grocery gift card", value_cents=1000, cost_points=40,
                                                         program_id=personas.program), opening_stock=5,
                                     actor=manager)
        bus = catalog.create_reward(catalog.RewardInput(name="Bus pass", value_cents=500, cost_points=20,
                                                        is_stocked=False), actor=manager)
        program = Program(name="Prize draws", point_value_cents=25, weeks=12, visit_days=["mon", "thu"],
                          cap_cents=50000, cap_window=CapWindow.EPISODE)
        target = ProgramTarget(key="stimulants", label="stimulants", kind=TargetKind.ABSTINENCE,
                               analytes=["cocaine"])
        target.schedule_versions.append(ScheduleVersion(version=1, effective_on=date(2026, 1, 1),
                                                        schedule=PRIZE_SCHEDULE))
        program.targets.append(target)
        patient = Patient(display_name="Dana Draws", record_number="MRN-010", counselor_id=personas.counselor)
        db.session.add_all([program, patient])
        db.session.flush()
        db.session.add(Enrollment(patient_id=patient.id, program_id=program.id, start_on=date(2026, 11, 2),
                                  visit_days=["mon", "thu"]))
        db.session.commit()
        small = catalog.create_reward(catalog.RewardInput(name="Water bottle", value_cents=100, tier="small",
                                                          program_id=program.id), opening_stock=2, actor=manager)
        last = catalog.create_reward(catalog.RewardInput(name="Lip balm", value_cents=100, tier="small",
                                                         program_id=program.id), opening_stock=1, actor=manager)
        second = accounts.create_user(username="sam", password=PASSWORD, role="counselor", display_name="Sam Second")
        return Shop(card.id, bus.id, program.id, patient.id, small.id, last.id, second.id)


@pytest.fixture
def give(app: Flask, personas: Any) -> Callable[..., None]:
    """Credit a patient through a manager's manual adjustment (the only way to earn without events)."""

    def credit(patient_id: int, points: int = 0, draws: int = 0) -> None:
        from cm_tracker.extensions import db
        from cm_tracker.models import Patient, User
        from cm_tracker.services.usecases.adjustments import post_adjustment

        with app.app_context():
            post_adjustment(db.session.get(Patient, patient_id), points=points, draws=draws, reason="test credit",
                            actor=db.session.get(User, personas.manager))

    return credit

