"""Prize draws at the desk (docs/rules.md 4.2): earned draws are credits; each draw picks one slip from the bowl."""

from __future__ import annotations

import random

from cm_tracker.engine.bowl import RandomSource, draw_slip
from cm_tracker.engine.caps import cap_prize_tier
from cm_tracker.extensions import db
from cm_tracker.models import Draw, EntryKind, LedgerEntry, Patient, User
from cm_tracker.money import format_cents
from cm_tracker.services.core import audit
from cm_tracker.services.core.balances import balance_of, cap_used_cents
from cm_tracker.services.core.clinic import clinic_today
from cm_tracker.services.core.enrollments import current_enrollment
from cm_tracker.services.core.errors import Conflict, ValidationFailed
from cm_tracker.services.core.events import rules_for
from cm_tracker.services.core.ledger import lock_enrollment
from cm_tracker.timeutil import utcnow

MAX_DRAWS_AT_ONCE = 50
# The operating system's randomness in production (docs/rules.md 4.2); tests pass a seeded random.Random.
_system_random = random.SystemRandom()


def perform_draws(patient: Patient, count: int, *, actor: User, rng: RandomSource | None = None) -> list[Draw]:
    """Draw `count` slips for a patient present at the desk, within their draw credits and the cap."""
    if not 1 <= count <= MAX_DRAWS_AT_ONCE:
        raise ValidationFailed("Choose how many draws.", fields={"count": f"Draw 1 to {MAX_DRAWS_AT_ONCE} at a time."})
    enrollment = current_enrollment(patient)
    bowl = rules_for(enrollment.program).bowl if enrollment else None
    if enrollment is None or bowl is None:
        raise Conflict("This patient's programme has no prize bowl.", code="no_bowl")
    lock_enrollment(enrollment.id)
    credits = balance_of(patient.id).draws
    if count > credits:
        db.session.rollback()
        raise Conflict(f"Only {max(credits, 0)} draw(s) are waiting; {count} were asked for.",
                       code="insufficient_draws")
    program, now, today = enrollment.program, utcnow(), clinic_today()
    used = cap_used_cents(enrollment, program.cap_window, today)
    draws: list[Draw] = []
    for _ in range(count):
        slip = draw_slip(bowl, rng or _system_random)
        tier = cap_prize_tier(bowl, slip, program.cap_cents - used, program.max_award_cents)
        used += tier.value_cents
        draw = Draw(patient_id=patient.id, enrollment_id=enrollment.id, drawn_at=now, drawn_tier=slip.tier,
                    tier=tier.tier, value_cents=tier.value_cents, drawn_by_id=actor.id)
        db.session.add(draw)
        db.session.flush()
        db.session.add(LedgerEntry(patient_id=patient.id, enrollment_id=enrollment.id, kind=EntryKind.DRAW,
                                   draws=-1, value_cents=tier.value_cents, reason=_reason(slip.tier, tier.tier,
                                   tier.value_cents), draw_id=draw.id, occurred_at=now, created_by_id=actor.id))
        draws.append(draw)
    # object_id holds 64 characters, fewer than fifty ids: it names the first draw, the detail every one of them.
    audit.record("draw.create", user=actor, patient_id=patient.id, object_type="draw", object_id=draws[0].id,
                 detail={"draw_ids": [d.id for d in draws], "tiers": [d.tier for d in draws]})
    db.session.commit()
    return draws


def _reason(drawn: str, granted: str, value_cents: int) -> str:
    prize = f"a {granted.replace('_', ' ')} prize ({format_cents(value_cents)})"
    words = "good job" if granted == "good_job" else prize
    if drawn != granted:
        return f"Prize draw: drew {drawn.replace('_', ' ')}, given {words}: the programme's limit leaves no more room"
    return f"Prize draw: {words}"
