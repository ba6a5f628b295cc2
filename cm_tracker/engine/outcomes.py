"""How one event turns into an outcome for one target (docs/rules.md section 3).

An outcome is `success`, `failure` or `neutral`. A neutral event neither breaks nor extends a streak and
earns nothing. Every classification carries a short plain reason that can stand in a sentence a patient
reads ("positive for cocaine", "missed visit").
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from cm_tracker.engine.text import join_words


class Outcome(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"
    NEUTRAL = "neutral"


class SpecimenStatus(StrEnum):
    FINAL = "final"
    PENDING = "pending"
    MISSED = "missed"
    EXCUSED = "excused"
    REFUSED = "refused"


class Validity(StrEnum):
    VALID = "valid"
    DILUTE = "dilute"
    ADULTERATED = "adulterated"
    SUBSTITUTED = "substituted"
    INVALID = "invalid"


class DilutePolicy(StrEnum):
    FAILURE = "failure"
    NEUTRAL = "neutral"


class AttendanceStatus(StrEnum):
    ATTENDED = "attended"
    EXCUSED = "excused"
    UNEXCUSED = "unexcused"


class ActivityStatus(StrEnum):
    PROPOSED = "proposed"
    SUBMITTED = "submitted"
    VERIFIED = "verified"
    REJECTED = "rejected"
    EXPIRED = "expired"


NEGATIVE = "negative"
POSITIVE = "positive"

# Specimens that prove nothing about use: each is a failure (docs/rules.md 3, rule 3).
_TAMPERED = {
    Validity.ADULTERATED: "adulterated specimen",
    Validity.SUBSTITUTED: "substituted specimen",
    Validity.INVALID: "invalid specimen",
}


@dataclass(frozen=True, slots=True)
class SpecimenFacts:
    """What staff or the lab recorded about one specimen.

    `results` maps an analyte name to "negative" or "positive"; any other value means the analyte was not
    tested. `temperature_ok` is None when no temperature was taken.
    """

    status: SpecimenStatus
    results: Mapping[str, str]
    validity: Validity = Validity.VALID
    temperature_ok: bool | None = None


@dataclass(frozen=True, slots=True)
class Classification:
    """The outcome, the English phrase for explanations, and the rule that decided it as a code (with the analytes
    it names) so that other languages can say the same thing without re-deriving the rule."""

    outcome: Outcome
    reason: str
    code: str = ""
    analytes: tuple[str, ...] = ()


def classify_specimen(
    facts: SpecimenFacts,
    analytes: frozenset[str],
    dilute_policy: DilutePolicy = DilutePolicy.FAILURE,
) -> Classification:
    """Classify a specimen for an abstinence target whose analyte set is `analytes`.

    The rules of docs/rules.md 3 apply in order, and the first that matches decides:
    1. only final results count: a pending specimen is neutral;
    2. not submitted: neutral if excused, else a failure (missed);
    3. refused, adulterated, substituted, invalid, or temperature outside 32-38 C: failure;
    4. dilute: the program's dilute policy (failure by default, or neutral);
    5. any analyte of the set positive: failure; analytes outside the set are ignored;
    6. every analyte of the set negative: success; one not tested: neutral (the specimen cannot count).
    """
    status = facts.status
    if status == SpecimenStatus.PENDING:
        return Classification(Outcome.NEUTRAL, "result pending", "pending")
    if status == SpecimenStatus.EXCUSED:
        return Classification(Outcome.NEUTRAL, "excused absence", "excused")
    if status == SpecimenStatus.MISSED:
        return Classification(Outcome.FAILURE, "missed visit", "missed")
    if status == SpecimenStatus.REFUSED:
        return Classification(Outcome.FAILURE, "specimen refused", "refused")
    return _classify_final(facts, analytes, dilute_policy)


def _classify_final(facts: SpecimenFacts, analytes: frozenset[str], dilute_policy: DilutePolicy) -> Classification:
    if facts.validity in _TAMPERED:
        return Classification(Outcome.FAILURE, _TAMPERED[facts.validity], str(facts.validity))
    if facts.temperature_ok is False:
        return Classification(Outcome.FAILURE, "temperature out of range", "temperature")
    if facts.validity == Validity.DILUTE:
        return Classification(Outcome(dilute_policy), "dilute specimen", "dilute")
    results = facts.results
    positive = sorted(a for a in analytes if results.get(a) == POSITIVE)
    if positive:
        return Classification(Outcome.FAILURE, f"positive for {join_words(positive)}", "positive", tuple(positive))
    untested = sorted(untested_analytes(results, analytes))
    if untested:
        return Classification(Outcome.NEUTRAL, f"not tested for {join_words(untested)}: cannot count", "untested",
                              tuple(untested))
    negative = sorted(analytes)
    return Classification(Outcome.SUCCESS, f"negative for {join_words(negative)}", "negative", tuple(negative))


def untested_analytes(results: Mapping[str, str], analytes: Iterable[str]) -> frozenset[str]:
    """Analytes of the target's set with no negative or positive result.

    Such a specimen cannot count (docs/rules.md 3, rule 6); forms and the API refuse it unless staff confirm.
    """
    return frozenset(a for a in analytes if results.get(a) not in (NEGATIVE, POSITIVE))


def is_bonus_negative(
    facts: SpecimenFacts,
    bonus_analytes: frozenset[str],
    dilute_policy: DilutePolicy = DilutePolicy.FAILURE,
) -> bool:
    """Whether a specimen also earns prize-draw bonus draws: a success for the bonus analyte set (docs/rules.md 4.2)."""
    if not bonus_analytes:
        return False
    return classify_specimen(facts, bonus_analytes, dilute_policy).outcome is Outcome.SUCCESS


_ATTENDANCE = {
    AttendanceStatus.ATTENDED: Classification(Outcome.SUCCESS, "attended"),
    AttendanceStatus.EXCUSED: Classification(Outcome.NEUTRAL, "excused absence"),
    AttendanceStatus.UNEXCUSED: Classification(Outcome.FAILURE, "unexcused absence"),
}

# Activities do not reset a streak: a rejected or lapsed activity is neutral (docs/rules.md 3).
_ACTIVITY = {
    ActivityStatus.PROPOSED: Classification(Outcome.NEUTRAL, "activity not yet verified"),
    ActivityStatus.SUBMITTED: Classification(Outcome.NEUTRAL, "activity not yet verified"),
    ActivityStatus.VERIFIED: Classification(Outcome.SUCCESS, "activity verified"),
    ActivityStatus.REJECTED: Classification(Outcome.NEUTRAL, "activity not accepted"),
    ActivityStatus.EXPIRED: Classification(Outcome.NEUTRAL, "activity expired"),
}


def classify_attendance(status: AttendanceStatus) -> Classification:
    """Attended is a success, an unexcused absence a failure, an excused one neutral (docs/rules.md 3)."""
    return _ATTENDANCE[AttendanceStatus(status)]


def classify_activity(status: ActivityStatus) -> Classification:
    """A verified activity is a success; anything else is neutral and resets nothing (docs/rules.md 3)."""
    return _ACTIVITY[ActivityStatus(status)]
