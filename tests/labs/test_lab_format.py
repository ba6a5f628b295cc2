"""Which format a lab's body is in (usecases/lab_results.format_of): by Content-Type, else a file's extension,
else its first bytes; none of them is a 400 naming the Content-Type."""

from __future__ import annotations

import pytest

from labs.lab_bodies import sample


@pytest.mark.parametrize(("content_type", "data", "filename", "fmt"), [
    ("application/fhir+json; charset=utf-8", b"{}", None, "fhir"),
    ("application/json", b"{}", None, "fhir"),
    ("application/hl7-v2", b"MSH|", None, "hl7v2"),
    ("x-application/hl7-v2+er7", b"MSH|", None, "hl7v2"),
    ("text/plain", b"\x0bMSH|^~\\&|", None, "hl7v2"),
    ("text/csv", b"record_number", None, "csv"),
    (None, b"anything", "results.CSV", "csv"),
    (None, b"MSH|", "batch.txt", "hl7v2"),
    ("application/octet-stream", b"{}", "bundle.json", "fhir"),
    (None, sample("hl7v2"), "upload", "hl7v2"),
    (None, sample("fhir"), "upload", "fhir"),
    (None, sample("csv"), "upload", "csv"),
])
def test_the_format_is_told_by_the_content_type_the_extension_or_the_first_bytes(
        content_type: str | None, data: bytes, filename: str | None, fmt: str) -> None:
    from cm_tracker.services.usecases.lab_results import format_of

    assert str(format_of(content_type, data, filename)) == fmt


@pytest.mark.parametrize(("content_type", "data"), [("text/plain", b"hello"), ("application/xml", b"<a/>"),
                                                    (None, b"MSH|")])
def test_a_body_of_no_known_format_is_refused_naming_the_content_type(content_type: str | None,
                                                                      data: bytes) -> None:
    from cm_tracker.labs.observations import LabParseError
    from cm_tracker.services.usecases.lab_results import format_of

    with pytest.raises(LabParseError) as refused:
        format_of(content_type, data)
    assert refused.value.where == "Content-Type"
