"""form_errors.show_errors, the one mapping of a refused use case onto the page form that sent it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField

from cm_tracker.form_errors import show_errors
from cm_tracker.services.core.errors import Conflict, ValidationFailed


class _Form(FlaskForm):
    class Meta:
        csrf = False

    name = StringField("Name")
    cap = StringField("Cap ($)")
    version = HiddenField()


@pytest.fixture
def form(app) -> Iterator[_Form]:
    with app.test_request_context("/", method="POST"):
        yield _Form()


def test_a_field_message_goes_beside_its_field_and_not_into_the_problems(form):
    assert show_errors(form, ValidationFailed("Not saved.", fields={"name": "Give a name."})) == []
    assert form.name.errors == ["Give a name."]


def test_a_service_name_is_mapped_to_the_forms_name_for_it(form):
    show_errors(form, ValidationFailed("Not saved.", fields={"cap_cents": "Too much."}), {"cap_cents": "cap"})
    assert form.cap.errors == ["Too much."]


def test_a_dotted_path_goes_beside_the_field_of_its_first_part(form):
    show_errors(form, ValidationFailed("Not saved.", fields={"cap_cents.window": "Choose a window."}),
                {"cap_cents": "cap"})
    assert form.cap.errors == ["Choose a window."]


def test_a_message_for_no_visible_field_joins_the_problems(form):
    error = ValidationFailed("Not saved.", fields={"version": "Stale.", "targets": "Add a target."})
    assert show_errors(form, error) == ["Stale.", "Add a target."]
    assert form.version.errors == ()


def test_an_error_naming_no_field_is_a_problem_of_the_page(form):
    assert show_errors(form, Conflict("Someone changed it.")) == ["Someone changed it."]


def test_an_error_naming_no_field_may_go_beside_a_chosen_field(form):
    assert show_errors(form, Conflict("The name is taken."), unnamed="name") == []
    assert form.name.errors == ["The name is taken."]
