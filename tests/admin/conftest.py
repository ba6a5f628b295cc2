"""Admin fixtures."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from helpers import sign_in


@pytest.fixture
def admin(client: FlaskClient, personas) -> FlaskClient:
    """A client signed in as Ada, the personas' admin."""
    sign_in(client, "ada")
    return client
