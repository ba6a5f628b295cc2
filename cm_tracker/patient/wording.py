"""The portal's sentences, in the patient's language, built from structured facts (never from the stored reason).

"Negative for stimulants, 4th in a row: 25 points" / "Negativo para estimulantes, 4.º seguido: 25 puntos".
services/queries/portal_history.py supplies each ledger entry with what its event earns now (outcome, streak, bonus),
the cause of the outcome and the amounts before and after a correction; this module only chooses words.
Staff-written text (an activity's description, a manual adjustment's note, reward names) is shown as written, but
for a catalog item's Spanish name, which a Spanish page shows instead of its name when the clinic gave one.
"""

from __future__ import annotations

from flask_babel import format_number, get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from cm_tracker.engine.outcomes import Outcome
from cm_tracker.engine.text import ordinal as english_ordinal
from cm_tracker.i18n import money, short_date
from cm_tracker.models import EntryKind, Redemption, RedemptionStatus, Reward, ScheduledVisit, VisitKind
from cm_tracker.services.core.errors import ServiceError
from cm_tracker.services.queries.portal import Shelf, Streak
from cm_tracker.services.queries.portal_history import Cause, Line

# A small glossary, so Spanish pages do not mix in English drug names. Unknown names are shown as they are.
ANALYTES = {
    "alcohol": _l("alcohol"), "amphetamine": _l("amphetamine"), "amphetamines": _l("amphetamines"),
    "barbiturates": _l("barbiturates"), "benzodiazepines": _l("benzodiazepines"),
    "buprenorphine": _l("buprenorphine"), "cannabis": _l("cannabis"), "cocaine": _l("cocaine"),
    "fentanyl": _l("fentanyl"), "mdma": _l("MDMA"), "methadone": _l("methadone"),
    "methamphetamine": _l("methamphetamine"), "opiates": _l("opiates"), "opioids": _l("opioids"),
    "oxycodone": _l("oxycodone"), "thc": _l("cannabis (THC)"), "stimulants": _l("stimulants"),
    # the other analyte keys of the lab's LOINC map (services/core/lab_map.py)
    "cannabinoids": _l("cannabinoids"), "pcp": _l("PCP"), "6-mam": _l("heroin (6-MAM)"),
}
# Target names clinics commonly use; a programme's own label is shown as written when it is not listed here.
LABELS = {
    **ANALYTES,
    "attendance": _l("attendance"), "group": _l("group"), "group sessions": _l("group sessions"),
    "groups": _l("groups"), "counseling": _l("counseling"), "counselling": _l("counselling"),
    "goal activities": _l("goal activities"), "activities": _l("activities"), "sessions": _l("sessions"),
}
TIERS = {"small": _l("small"), "large": _l("large"), "jumbo": _l("jumbo"), "good_job": _l("“Good job!”")}
CAP_WINDOWS = {
    "episode": _l("for this treatment episode"),
    "calendar_year": _l("for this calendar year"),
    "rolling_365": _l("for any 365 days"),
}
REQUEST_STATUS = {
    RedemptionStatus.REQUESTED: _l("Waiting at the desk"),
    RedemptionStatus.FULFILLED: _l("Handed over"),
    RedemptionStatus.CANCELLED: _l("Cancelled"),
}


def analyte(name: str) -> str:
    return str(ANALYTES.get(name.lower(), name))


def label(text: str) -> str:
    return str(LABELS.get(text.strip().lower(), text))


def join(words: list[str]) -> str:
    """'a', 'a and b', 'a, b and c' (and 'y' in Spanish)."""
    if len(words) < 2:
        return "".join(words)
    return _("%(first)s and %(last)s", first=", ".join(words[:-1]), last=words[-1])


def ordinal(n: int) -> str:
    return f"{n}.º" if str(get_locale()) == "es" else english_ordinal(n)


def points(n: int) -> str:
    return ngettext("%(count)s point", "%(count)s points", abs(n), count=format_number(n))


def draws(n: int) -> str:
    return ngettext("%(count)s prize draw", "%(count)s prize draws", abs(n), count=format_number(n))


def amount(p: int, d: int) -> str:
    """'25 points', '2 prize draws', '25 points and 2 prize draws'; nothing at all is 'no points'."""
    if p and d:
        return _("%(points)s and %(draws)s", points=points(p), draws=draws(d))
    if d:
        return draws(d)
    return points(p)


def signed(p: int, d: int) -> list[str]:
    """The amount column of a history line: '+25 points', '-1 prize draw'."""
    parts = []
    if p:
        parts.append(("+" if p > 0 else "") + points(p))
    if d:
        parts.append(("+" if d > 0 else "") + draws(d))
    return parts


def cause_phrase(cause: Cause, target_label: str) -> str:
    what = label(target_label)
    analytes = join([analyte(a) for a in cause.analytes])
    code = cause.code
    if code == "negative":
        return _("Negative for %(what)s", what=what or analytes)
    if code == "positive":
        return _("Positive for %(what)s", what=analytes)
    if code == "untested":
        return _("Not tested for %(what)s, so the test cannot count", what=analytes)
    if code.startswith("attendance_"):
        return _ATTENDANCE[code](what) if what else _ATTENDANCE_BARE[code]()
    if code.startswith("activity_"):
        return _("%(verdict)s: %(activity)s", verdict=_ACTIVITY.get(code, _ACTIVITY["activity_proposed"])(),
                 activity=cause.note)
    return _SPECIMEN.get(code, lambda: code)()


_SPECIMEN = {
    "missed": lambda: _("Missed test"), "excused": lambda: _("Excused absence"),
    "pending": lambda: _("Result pending"), "refused": lambda: _("Test refused"),
    "adulterated": lambda: _("Adulterated sample"), "substituted": lambda: _("Substituted sample"),
    "invalid": lambda: _("Invalid sample"), "temperature": lambda: _("Sample temperature out of range"),
    "dilute": lambda: _("Dilute sample"), "dilute_neutral": lambda: _("Dilute sample"),
}
_ATTENDANCE = {
    "attendance_attended": lambda what: _("Attended %(what)s", what=what),
    "attendance_excused": lambda what: _("Excused absence from %(what)s", what=what),
    "attendance_unexcused": lambda what: _("Missed %(what)s", what=what),
}
_ATTENDANCE_BARE = {
    "attendance_attended": lambda: _("Attended"), "attendance_excused": lambda: _("Excused absence"),
    "attendance_unexcused": lambda: _("Missed session"),
}
_ACTIVITY = {
    "activity_verified": lambda: _("Activity verified"), "activity_rejected": lambda: _("Activity not accepted"),
    "activity_expired": lambda: _("Activity expired"), "activity_proposed": lambda: _("Activity not yet verified"),
    "activity_submitted": lambda: _("Activity not yet verified"),
}


def _award_phrase(line: Line) -> str:
    """What the event was and where it left the streak, without the amount."""
    award, cause = line.award, line.cause
    assert award is not None
    head = cause_phrase(cause, line.label) if cause else _("Result for %(what)s", what=label(line.label))
    # A fixed reward counts no run (docs/rules.md 4.3: run 0 on its successes), so there is no "0th in a row".
    if award.outcome == Outcome.SUCCESS and award.run:
        return _("%(cause)s, %(ordinal)s in a row", cause=head, ordinal=ordinal(award.run))
    return head


def _award_amount(line: Line) -> str:
    award = line.award
    assert award is not None
    if award.outcome != Outcome.SUCCESS:
        if award.outcome == Outcome.NEUTRAL:
            return _("nothing this time; your streak is unchanged")
        return _("nothing this time")
    bonus = award.bonus_points or award.bonus_draws
    total = amount(award.points, award.draws)
    if bonus:
        total = _("%(total)s (%(base)s + %(bonus)s bonus)", total=total,
                  base=format_number((award.points or award.draws) - bonus), bonus=format_number(bonus))
    if award.recovered:
        total = _("%(total)s: your earlier value is back", total=total)
    if award.capped:
        total = _("%(total)s, cut to fit the programme's limit", total=total)
    return total


def sentence(line: Line) -> str:
    """The plain-language sentence for one history line."""
    entry = line.entry
    kind = entry.kind
    if kind in (EntryKind.AWARD, EntryKind.ADJUSTMENT) and entry.event_type:
        return _engine_sentence(line)
    if kind == EntryKind.MANUAL:
        return _("Adjustment by the clinic staff: %(amount)s", amount=amount(entry.points, entry.draws))
    if kind == EntryKind.REDEMPTION:
        return _redemption_sentence(line)
    if kind == EntryKind.DRAW:
        return _draw_sentence(line)
    if kind == EntryKind.PRIZE:
        return _("Prize value counted toward your limit: %(value)s", value=money(entry.value_cents))
    if line.label:
        return _("Reward for %(what)s: %(amount)s", what=label(line.label), amount=amount(entry.points, entry.draws))
    return amount(entry.points, entry.draws)


def _event_name(event_type: str) -> str:
    return {"specimen": _("Test"), "attendance": _("Session"), "activity": _("Activity")}.get(event_type, "")


def _engine_sentence(line: Line) -> str:
    entry = line.entry
    if entry.kind == EntryKind.ADJUSTMENT:
        return _correction_sentence(line)
    if line.award is not None:
        return _("%(what)s: %(amount)s", what=_award_phrase(line), amount=_award_amount(line))
    said = _("%(event)s for %(what)s: %(amount)s", event=_event_name(str(entry.event_type)),
             what=label(line.label), amount=amount(entry.points, entry.draws))
    if line.superseded:
        said = _("%(said)s (changed later by a correction)", said=said)
    return said


def _correction_sentence(line: Line) -> str:
    """A correction names the event it corrects and its date, since it is written later than the event."""
    entry = line.entry
    before, after = line.before or (0, 0), line.after or (0, 0)
    event = {"specimen": _("test"), "attendance": _("session"), "activity": _("activity")}.get(
        str(entry.event_type), "")
    common = {"event": event, "day": short_date(entry.occurred_at), "before": amount(*before),
              "after": amount(*after)}
    if line.award is not None:
        return _("Correction to your %(event)s of %(day)s: %(what)s. Before %(before)s, now %(after)s.",
                 what=_award_phrase(line), **common)
    return _("Correction to your %(event)s of %(day)s for %(what)s. Before %(before)s, now %(after)s.",
             what=label(line.label), **common)


def reward_name(reward: Reward) -> str:
    """A catalog or cabinet item's name in the page's language: its Spanish name on a Spanish page when it has one,
    else its name as staff wrote it."""
    if reward.name_es and str(get_locale()) == "es":
        return reward.name_es
    return reward.name


def correction_why(line: Line) -> str:
    """Why a correction happened, for the line under it. A reason staff typed follows it as written (in English, see
    the module), so the template shows it apart, in its own language."""
    code = line.why.code if line.why else ""
    if code == "lab" and line.why and line.why.found:
        return _("The lab's test of your sample found %(drugs)s, so the award for that test was taken back.",
                 drugs=join([analyte(a) for a in line.why.found]))
    return str(_WHY[code]()) if code in _WHY else ""


_WHY = {
    "lab": lambda: _("Corrected by the lab"),
    "staff": lambda: _("Corrected by staff:"),
    "excused": lambda: _("Excused by the clinic:"),
    "closed": lambda: _("The clinic was closed:"),
    "recalculated": lambda: _("Recalculated after an earlier visit was recorded or changed"),
}


def item(redemption: Redemption) -> str:
    name = reward_name(redemption.reward) if redemption.reward else _("a reward")
    if redemption.quantity == 1:
        return name
    return _("%(count)s \u00d7 %(name)s", count=format_number(redemption.quantity), name=name)


def _redemption_sentence(line: Line) -> str:
    entry, redemption = line.entry, line.redemption
    if redemption is None:
        return _("Points exchanged at the desk") if entry.points <= 0 else _("Points returned")
    if entry.points > 0:
        return _("Request cancelled, points returned: %(item)s", item=item(redemption))
    if redemption.status == RedemptionStatus.REQUESTED:
        return _("Points set aside for your request: %(item)s", item=item(redemption))
    return _("Exchanged for %(item)s", item=item(redemption))


def _draw_sentence(line: Line) -> str:
    draw = line.draw
    if draw is None:
        return _("Prize draw used")
    if draw.tier == "good_job":
        said = _("Prize draw: a “Good job!” slip, no prize this time")
    else:
        said = _("Prize draw: you won a %(tier)s prize (%(value)s)", tier=tier(draw.tier),
                 value=money(draw.value_cents))
    if draw.drawn_tier != draw.tier:
        said = _("%(said)s. You drew %(drawn)s, but the programme's limit had no room for it.", said=said,
                 drawn=tier(draw.drawn_tier))
    return said


def tier(name: str) -> str:
    return str(TIERS.get(name, name.replace("_", " ")))


def request_status(status: RedemptionStatus) -> str:
    return str(REQUEST_STATUS.get(RedemptionStatus(status), status))


def cap_window(window: str) -> str:
    return str(CAP_WINDOWS.get(window, ""))


def visit(v: ScheduledVisit, labels: dict[str, str]) -> str:
    kind = _("Test") if v.kind == VisitKind.TEST else _("Session")
    if v.target_key and v.target_key in labels:
        return _("%(kind)s: %(what)s", kind=kind, what=label(labels[v.target_key]))
    return kind


def streak_run(s: Streak) -> str:
    if not s.resets:  # a fixed reward counts no run: "No streak yet" would never change
        return _("The same reward for every success.")
    if not s.run:
        return _("No streak yet: your next success starts one.")
    return ngettext("%(count)s in a row", "%(count)s in a row", s.run, count=format_number(s.run))


def next_reward(s: Streak) -> str:
    earns = amount(s.next_points, s.next_draws)
    if s.next_points and s.next_value_cents:
        earns = _("%(amount)s (%(value)s)", amount=earns, value=money(s.next_value_cents))
    if s.kind == "attendance":
        return _("Your next attended session earns %(amount)s.", amount=earns)
    if s.kind == "activity":
        return _("Your next verified activity earns %(amount)s.", amount=earns)
    return _("Your next negative test earns %(amount)s.", amount=earns)


def reset_rule(s: Streak) -> str:
    if s.kind == "activity":
        return _("An activity that is not verified does not break your streak.")
    reset = amount(s.reset_points, s.reset_draws)
    if s.kind == "attendance":
        if not s.resets:
            return _("A missed session does not change it.")
        return _("A missed session would reset it to %(amount)s.", amount=reset)
    if not s.resets:
        return _("A positive or missed test does not change it.")
    return _("A positive or missed test would reset it to %(amount)s.", amount=reset)


def request_problem(error: ServiceError, shelf: Shelf, reward_id: int | None) -> str:
    """Why a request was refused, in the patient's words (the service's message is English, for staff and logs)."""
    offer = next((o for o in shelf.offers if o.reward.id == reward_id), None)
    name = reward_name(offer.reward) if offer else _("this item")
    most = offer.most if offer else 0  # the real limit (core.spending), never the per-request one
    code = getattr(error, "code", "")
    if code == "insufficient_balance":
        short = _("You do not have enough points for %(item)s yet: you have %(available)s available.",
                  item=name, available=points(shelf.available))
        return f"{short} {up_to(most)}" if most else short
    if code == "out_of_stock" and most:
        return ngettext("Only %(num)s of %(item)s is left, so you can ask for 1.",
                        "Only %(num)s of %(item)s are left, so you can ask for up to %(num)s.", most, item=name)
    if code == "out_of_stock":
        return _("Sorry, %(item)s is out of stock right now. Please ask at the desk.", item=name)
    if code == "no_enrollment":
        return _("You are not enrolled in a programme right now, so nothing can be requested.")
    if error.fields.get("quantity") and most:
        return _("Choose how many, from 1 to %(max)s.", max=most)
    return _("This item cannot be requested. Please ask at the desk.")


def up_to(most: int) -> str:
    return ngettext("You can ask for %(num)s now.", "You can ask for up to %(num)s now.", most)
