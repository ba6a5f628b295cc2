from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length


class SignInForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)],
                           render_kw={"autocomplete": "username", "autocapitalize": "none", "autofocus": True})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=128)],
                             render_kw={"autocomplete": "current-password"})


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=128)],
                                     render_kw={"autocomplete": "current-password"})
    new_password = PasswordField(_l("New password"), validators=[
        DataRequired(), Length(max=128, message=_l("Use at most 128 characters."))],
                                 render_kw={"autocomplete": "new-password"},
                                 description=_l("At least 8 characters. A phrase of several words is easy to "
                                                "remember."))
    confirm = PasswordField(_l("New password again"), validators=[DataRequired(), EqualTo("new_password",
                            message=_l("The two new passwords differ."))], render_kw={"autocomplete": "new-password"})


class CodeForm(FlaskForm):
    """A six-digit code from the authenticator app, or (at sign-in) one of the recovery codes."""

    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)],
                       description=_l("The six digits your authenticator app shows now, or one of your recovery "
                                      "codes."),
                       render_kw={"autocomplete": "one-time-code", "autocapitalize": "none", "spellcheck": "false",
                                  "autofocus": True})


class TotpForm(FlaskForm):
    """A code from the authenticator app, on the staff account pages (English)."""

    otp = StringField("Code from your app", validators=[DataRequired(), Length(max=32)],
                      description="The six digits your authenticator app shows now.",
                      render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"})
