"""A FHIR Bundle is read from its bytes a block at a time (labs/jsonstream.py): the same observations and the same
errors, naming the same line, as reading it whole, wherever the blocks end."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

import pytest

from labs.lab_bodies import DATA

ZONE = ZoneInfo("America/Los_Angeles")


@pytest.mark.parametrize("block", [1, 7, 64, 1 << 16])
def test_a_bundle_read_in_blocks_of_any_size_reads_as_a_whole(monkeypatch, block: int) -> None:
    from cm_tracker.labs import jsonstream
    from cm_tracker.labs.fhir import read_fhir

    text = DATA.joinpath("bundle.json").read_text()
    whole = read_fhir(text, ZONE)  # a str is read at once
    monkeypatch.setattr(jsonstream, "BLOCK", block)
    assert read_fhir(text.encode(), ZONE) == whole and whole.observations


@pytest.mark.parametrize("text", [
    '{"resourceType": "Bundle", "entry": [1,]}', '{"resourceType": "Bundle",\n "entry": []}\n\n x',
    '{"resourceType": "Bundle",\n\n "entry": [{"resource": {}} {}]}', '{"a": 1,}', '{"resourceType": "Bundle", '])
def test_a_body_that_is_not_json_names_the_line_json_names(monkeypatch, text: str) -> None:
    from cm_tracker.labs import jsonstream
    from cm_tracker.labs.fhir import read_fhir
    from cm_tracker.labs.observations import LabParseError

    with pytest.raises(json.JSONDecodeError) as decoder:
        json.loads(text)
    monkeypatch.setattr(jsonstream, "BLOCK", 5)
    with pytest.raises(LabParseError) as refused:
        read_fhir(text.encode(), ZONE)
    assert refused.value.where == f"line {decoder.value.lineno}"
