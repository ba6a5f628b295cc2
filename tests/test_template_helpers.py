"""Template helpers that stand in for Flask's own: `id_url` builds exactly what url_for builds."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("script_root", ["", "/clinic"])
def test_id_url_is_url_for_with_the_ids_filled_in(app, script_root):
    from flask import url_for

    from cm_tracker.template_helpers import id_url

    with app.test_request_context("/", base_url=f"http://clinic.example{script_root}"):
        for patient_id, visit_id in ((1, 2), (42, 7), (2_147_483_647, 1)):
            assert id_url("staff.patient", patient_id=patient_id) == url_for("staff.patient", patient_id=patient_id)
            assert id_url("staff.record_visit", patient_id=patient_id, visit_id=visit_id) == url_for(
                "staff.record_visit", patient_id=patient_id, visit_id=visit_id)
        assert id_url("staff.patient", patient_id=5).startswith(f"{script_root}/staff/patients/5")
