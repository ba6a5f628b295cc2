"""Prize draws at the desk (docs/rules.md 4.2): earned draws are credits; each draw picks one slip from the bowl.

A request for draws may carry an Idempotency-Key (the API's header, the desk form's one-time token): the same key
and count again answer the first draws and draw nothing new; the same key with another count is refused (422), as
for redemptions (services/core/idempotency.py). The key is stored in a `draw_requests` row written with the draws.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from cm_tracker.engine.bowl import RandomSource, draw_slip
from cm_tracker.engine.caps import cap_prize_tier
from cm_tracker.extensions import db
from cm_tracker.models import Draw, DrawRequest, EntryKind, LedgerEntry, Patient, User
from cm_tracker.money import format_cents
from cm_tracker.services.core import audit, idempotency
from cm_tracker.services.core.balances import balance_of, cap_used_cents
from cm_tracker.services.core.clinic import clinic_today
from cm_tracker.services.core.enrollments import current_enrollment
from cm_tracker.services.core.errors import Conflict, ValidationFailed
from cm_tracker.services.core.events import rules_for
from cm_tracker.services.core.ledger import lock_enrollment
from cm_tracker.services.usecases.access_log import log_now
from cm_tracker.timeutil import utcnow

MAX_DRAWS_AT_ONCE = 50
# The operating system's randomness in production (docs/rules.md 4.2); tests pass a seeded random.Random.
_system_random = random.SystemRandom()


@dataclass(frozen=True)
class Drawn:
    """The draws of one request; `replayed` when a retry with the same key answered the first ones."""

    draws: list[Draw]
    replayed: bool = False

    @property
    def response(self) -> dict[str, Any]:
        return {"draws": [{"id": d.id, "tier": d.tier, "drawn_tier": d.drawn_tier, "value_cents": d.value_cents}
                          for d in self.draws]}


def perform_draws(patient: Patient, count: int, *, actor: User, rng: RandomSource | None = None,
                  idempotency_key: str | None = None) -> Drawn:
    """Draw `count` slips for a patient present at the desk, within their draw credits and the cap; a retry with
    the same key draws nothing and answers the first draws (audited as a replay)."""
    patient_id = patient.id
    done = _perform(patient, count, actor=actor, rng=rng, key=idempotency_key)
    if done.replayed:
        log_now("draw.replay", user=actor, patient_id=patient_id, object_type="draw",
                object_id=done.draws[0].id if done.draws else None, detail={"count": count})
    return done


def _perform(patient: Patient, count: int, *, actor: User, rng: RandomSource | None, key: str | None) -> Drawn:
    if not 1 <= count <= MAX_DRAWS_AT_ONCE:
        raise ValidationFailed("Choose how many draws.", fields={"count": f"Draw 1 to {MAX_DRAWS_AT_ONCE} at a time."})
    idempotency.check_key(key)
    request_hash = idempotency.fingerprint({"count": count})
    if key and (stored := _stored(patient.id, key)):
        return _replay(stored, request_hash)
    enrollment = current_enrollment(patient)
    bowl = rules_for(enrollment.program).bowl if enrollment else None
    if enrollment is None or bowl is None:
        raise Conflict("This patient's programme has no prize bowl.", code="no_bowl")
    lock_enrollment(enrollment.id)
    if key and (stored := _stored(patient.id, key)):  # the same key won the lock first
        db.session.rollback()
        return _replay(stored, request_hash)
    credits = balance_of(patient.id).draws
    if count > credits:
        db.session.rollback()
        raise Conflict(f"Only {max(credits, 0)} draw(s) are waiting; {count} were asked for.",
                       code="insufficient_draws")
    request = DrawRequest(patient_id=patient.id, idempotency_key=key, request_hash=request_hash,
                          created_by_id=actor.id) if key else None
    try:
        if request is not None:
            db.session.add(request)
            db.session.flush()
        done = Drawn(_draw(patient, enrollment, bowl, count, actor=actor, rng=rng))
        if request is not None:
            request.response = done.response
        db.session.commit()
    except IntegrityError:
        # The same key won a race we could not see: answer with its draws.
        db.session.rollback()
        stored = _stored(patient.id, key) if key else None
        if stored is None:
            raise
        return _replay(stored, request_hash)
    return done


def _draw(patient: Patient, enrollment: Any, bowl: Any, count: int, *, actor: User,
          rng: RandomSource | None) -> list[Draw]:
    """Write the draws and their ledger entries under the enrolment's lock, each slip fitted to the cap left."""
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
    return draws


def _stored(patient_id: int, key: str) -> DrawRequest | None:
    return db.session.scalar(select(DrawRequest).where(DrawRequest.patient_id == patient_id,
                                                       DrawRequest.idempotency_key == key))


def _replay(stored: DrawRequest, request_hash: str) -> Drawn:
    response = idempotency.stored_response(stored.request_hash, stored.response, request_hash, what="draw")
    ids = [int(d["id"]) for d in response["draws"]]
    found = {d.id: d for d in db.session.scalars(select(Draw).where(Draw.id.in_(ids)))}
    return Drawn([found[i] for i in ids], replayed=True)


def _reason(drawn: str, granted: str, value_cents: int) -> str:
    prize = f"a {granted.replace('_', ' ')} prize ({format_cents(value_cents)})"
    words = "good job" if granted == "good_job" else prize
    if drawn != granted:
        return f"Prize draw: drew {drawn.replace('_', ' ')}, given {words}: the programme's limit leaves no more room"
    return f"Prize draw: {words}"
