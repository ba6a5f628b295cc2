"""Outcome rules of docs/rules.md 3, one table row per rule."""

import pytest

from cm_tracker.engine import (
    ActivityStatus,
    AttendanceStatus,
    DilutePolicy,
    Outcome,
    SpecimenFacts,
    SpecimenStatus,
    Validity,
    classify_activity,
    classify_attendance,
    classify_specimen,
    is_bonus_negative,
    untested_analytes,
)

STIMULANTS = frozenset({"cocaine", "methamphetamine"})
ALL_NEGATIVE = {"cocaine": "negative", "methamphetamine": "negative"}
S = SpecimenStatus
V = Validity


def final(results: dict[str, str] = ALL_NEGATIVE, validity: Validity = V.VALID, temperature_ok: bool | None = True):
    return SpecimenFacts(S.FINAL, results, validity, temperature_ok)


@pytest.mark.parametrize(
    ("facts", "outcome", "reason"),
    [
        pytest.param(SpecimenFacts(S.PENDING, {}), Outcome.NEUTRAL, "result pending", id="pending is neutral"),
        pytest.param(
            SpecimenFacts(S.PENDING, {"cocaine": "positive"}), Outcome.NEUTRAL, "result pending",
            id="pending counts for nothing even with a preliminary positive",
        ),
        pytest.param(SpecimenFacts(S.EXCUSED, {}), Outcome.NEUTRAL, "excused absence", id="excused is neutral"),
        pytest.param(SpecimenFacts(S.MISSED, {}), Outcome.FAILURE, "missed visit", id="missed is a failure"),
        pytest.param(SpecimenFacts(S.REFUSED, {}), Outcome.FAILURE, "specimen refused", id="refused is a failure"),
        pytest.param(final(validity=V.ADULTERATED), Outcome.FAILURE, "adulterated specimen", id="adulterated"),
        pytest.param(final(validity=V.SUBSTITUTED), Outcome.FAILURE, "substituted specimen", id="substituted"),
        pytest.param(final(validity=V.INVALID), Outcome.FAILURE, "invalid specimen", id="invalid"),
        pytest.param(final(temperature_ok=False), Outcome.FAILURE, "temperature out of range", id="temperature"),
        pytest.param(final(temperature_ok=None), Outcome.SUCCESS, "negative for cocaine and methamphetamine",
                     id="no temperature taken does not fail"),
        pytest.param(final({"cocaine": "positive", "methamphetamine": "negative"}), Outcome.FAILURE,
                     "positive for cocaine", id="one analyte of the set positive"),
        pytest.param(final({"cocaine": "positive", "methamphetamine": "positive"}), Outcome.FAILURE,
                     "positive for cocaine and methamphetamine", id="both positive"),
        pytest.param(final(), Outcome.SUCCESS, "negative for cocaine and methamphetamine", id="all negative"),
        pytest.param(final({**ALL_NEGATIVE, "methadone": "positive", "buprenorphine": "positive"}), Outcome.SUCCESS,
                     "negative for cocaine and methamphetamine", id="analytes outside the set are ignored"),
        pytest.param(final({"cocaine": "negative"}), Outcome.NEUTRAL,
                     "not tested for methamphetamine: cannot count", id="untested analyte of the set"),
        pytest.param(final({"cocaine": "positive"}), Outcome.FAILURE, "positive for cocaine",
                     id="a positive decides before an untested analyte"),
        pytest.param(final({"cocaine": "negative", "methamphetamine": "inconclusive"}), Outcome.NEUTRAL,
                     "not tested for methamphetamine: cannot count", id="a result neither negative nor positive"),
        pytest.param(final({"cocaine": "positive"}, validity=V.ADULTERATED), Outcome.FAILURE, "adulterated specimen",
                     id="tampering is named before the result"),
    ],
)  # fmt: skip
def test_it_classifies_a_specimen_by_the_ordered_rules(facts: SpecimenFacts, outcome: Outcome, reason: str) -> None:
    result = classify_specimen(facts, STIMULANTS)

    assert (result.outcome, result.reason) == (outcome, reason)


@pytest.mark.parametrize(
    ("policy", "outcome"),
    [(DilutePolicy.FAILURE, Outcome.FAILURE), (DilutePolicy.NEUTRAL, Outcome.NEUTRAL)],
)
def test_it_applies_the_programs_dilute_policy(policy: DilutePolicy, outcome: Outcome) -> None:
    result = classify_specimen(final(validity=V.DILUTE), STIMULANTS, policy)

    assert (result.outcome, result.reason) == (outcome, "dilute specimen")


def test_it_treats_a_dilute_specimen_as_a_failure_by_default() -> None:
    assert classify_specimen(final(validity=V.DILUTE), STIMULANTS).outcome == Outcome.FAILURE


def test_it_accepts_plain_strings_for_statuses() -> None:
    facts = SpecimenFacts("final", ALL_NEGATIVE, "dilute", True)

    assert classify_specimen(facts, STIMULANTS, "neutral").outcome == Outcome.NEUTRAL


def test_it_lists_the_untested_analytes_of_the_set_only() -> None:
    results = {"cocaine": "negative", "methadone": "positive"}

    assert untested_analytes(results, {"cocaine", "methamphetamine", "amphetamine"}) == {
        "amphetamine",
        "methamphetamine",
    }
    assert untested_analytes(ALL_NEGATIVE, STIMULANTS) == frozenset()


@pytest.mark.parametrize(
    ("results", "expected"),
    [
        ({**ALL_NEGATIVE, "opiates": "negative"}, True),
        ({**ALL_NEGATIVE, "opiates": "positive"}, False),
        (ALL_NEGATIVE, False),
    ],
    ids=["also negative for the bonus set", "positive for the bonus set", "bonus set not tested"],
)
def test_it_grants_bonus_draws_only_when_the_bonus_set_is_negative(results: dict[str, str], expected: bool) -> None:
    assert is_bonus_negative(final(results), frozenset({"opiates"})) is expected


@pytest.mark.parametrize(
    ("status", "outcome", "reason"),
    [
        (AttendanceStatus.ATTENDED, Outcome.SUCCESS, "attended"),
        (AttendanceStatus.UNEXCUSED, Outcome.FAILURE, "unexcused absence"),
        (AttendanceStatus.EXCUSED, Outcome.NEUTRAL, "excused absence"),
    ],
)
def test_it_classifies_attendance(status: AttendanceStatus, outcome: Outcome, reason: str) -> None:
    result = classify_attendance(status)

    assert (result.outcome, result.reason) == (outcome, reason)


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (ActivityStatus.VERIFIED, Outcome.SUCCESS),
        (ActivityStatus.REJECTED, Outcome.NEUTRAL),
        (ActivityStatus.EXPIRED, Outcome.NEUTRAL),
        (ActivityStatus.PROPOSED, Outcome.NEUTRAL),
        (ActivityStatus.SUBMITTED, Outcome.NEUTRAL),
    ],
)
def test_it_never_lets_an_activity_reset_a_streak(status: ActivityStatus, outcome: Outcome) -> None:
    assert classify_activity(status).outcome == outcome
