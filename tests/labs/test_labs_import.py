"""`flask labs import FILE...`: each file in its own transaction, its format told by name and content, a summary per
file, exit 1 when any file was refused (the others applied all the same), a clear error for a missing file."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

DATA = Path(__file__).parent / "data"
SAMPLES = [DATA / "results.csv", DATA / "oru_r01.hl7", DATA / "bundle.json"]

pytestmark = pytest.mark.time_machine(datetime(2026, 12, 1, 18, tzinfo=UTC), tick=False)


def _messages() -> list[tuple[str, str, str]]:
    from cm_tracker.extensions import db
    from cm_tracker.models import LabMessage

    return [(m.source, str(m.format), str(m.status))
            for m in db.session.scalars(select(LabMessage).order_by(LabMessage.id))]


def _accessions() -> list[str | None]:
    from cm_tracker.extensions import db
    from cm_tracker.models import Specimen

    return list(db.session.scalars(select(Specimen.accession).order_by(Specimen.id)))


def test_the_three_sample_files_are_imported_each_with_its_summary(app, lab):
    result = app.test_cli_runner().invoke(args=["labs", "import", *map(str, SAMPLES)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()[-3:]
    assert lines == [
        f"{SAMPLES[0]}: 1 created, 0 completed, 0 corrected, 0 unchanged, 0 withdrawn, 2 held, 0 ignored (message 1)",
        f"{SAMPLES[1]}: 0 created, 0 completed, 0 corrected, 1 unchanged, 0 withdrawn, 0 held, 0 ignored (message 2)",
        f"{SAMPLES[2]}: 0 created, 0 completed, 0 corrected, 1 unchanged, 0 withdrawn, 0 held, 1 ignored (message 3)",
    ]
    assert _messages() == [("file results.csv", "csv", "held"), ("file oru_r01.hl7", "hl7v2", "applied"),
                           ("file bundle.json", "fhir", "applied")]
    assert _accessions() == ["ACC-1001"]


def test_a_refused_file_is_named_with_its_error_and_exits_1_while_the_others_are_applied(app, lab, tmp_path):
    broken = tmp_path / "admission.hl7"
    broken.write_bytes(DATA.joinpath("oru_r01.hl7").read_bytes().replace(b"ORU^R01^ORU_R01", b"ADT^A01"))
    result = app.test_cli_runner().invoke(args=["labs", "import", str(broken), str(SAMPLES[1])])
    assert result.exit_code == 1
    assert f"{broken}: refused: message 1, MSH-9: expected ORU^R01, got ADT^A01" in result.output
    assert "1 of 2 files refused: nothing of them was applied." in result.output
    assert _messages() == [("file admission.hl7", "hl7v2", "refused"), ("file oru_r01.hl7", "hl7v2", "applied")]
    assert _accessions() == ["ACC-1001"]


def test_a_file_of_no_known_format_is_refused_by_name(app, lab, tmp_path):
    odd = tmp_path / "scan.pdf"
    odd.write_bytes(b"%PDF-1.7\n")
    result = app.test_cli_runner().invoke(args=["labs", "import", str(odd)])
    assert result.exit_code == 1
    assert f"{odd}: refused: Content-Type: send application/fhir+json, application/hl7-v2 or text/csv" in result.output
    assert _messages() == []


def test_a_missing_file_is_a_clear_error_and_nothing_is_imported(app, lab, tmp_path):
    result = app.test_cli_runner().invoke(args=["labs", "import", str(SAMPLES[1]), str(tmp_path / "gone.csv")])
    assert result.exit_code == 2
    assert "does not exist" in result.output and "Traceback" not in result.output
    assert _messages() == []
