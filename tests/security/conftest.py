"""Security fixtures: the matrix world, which the access matrix and the junk-input tests fill their paths with."""

from __future__ import annotations

import pytest
from flask import Flask

from worlds.matrix import matrix_world
from worlds.personas import Personas


@pytest.fixture
def matrix(app: Flask, personas: Personas) -> dict[str, int]:
    """The matrix world (tests/worlds/matrix.py), on top of the personas: the ids for {patient} (Pat, Cora's),
    {program}, {user} (Max), a missed {specimen} of Pat's, a {reward} voucher with a fulfilled {redemption}, a
    handed-over prize {draw}, an open test {visit} yesterday, a session mark ({attendance}) and a goal {activity}."""
    return matrix_world(app, personas)
