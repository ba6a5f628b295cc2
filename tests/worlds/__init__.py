"""Seeded worlds: the rows a test starts from, built once here and named alike.

Each module builds one world: a dataclass of the ids it seeds and a `<name>_world(app, ...)` function that writes the
rows and returns it. Tests ask for the fixture (registered in the conftest.py above the tests that use it), whose
docstring says what is in the world; e2e servers and tests that seed a second copy call the builder.

- `personas`: an account for every role, the "Stimulant vouchers" programme, Pat and Olive (fixture `personas`).
- `history`: on top of the personas, ledger rows, specimens and visits written as rows (fixture `history`).
- `story`: on top of the personas, Pat's November 2026 told through the services (fixture `story`, tests/portal).
- `clinic`: a programme, a counselor and one patient enrolled on Mon 5 Jan 2026, built to order (`make_clinic`),
  and the histories written on it through the services (`record`, `schedule`, `excuse`, `another_patient`).
- `records`: one record of each kind a URL can name, for one patient.
- `matrix`: the ids the access matrix fills its paths with (fixture `matrix`, tests/security).

A world that only one folder's tests use is a fixture in that folder's conftest.py (`desk` in tests/desk, `shop` in
tests/rewards); it moves here when a second folder needs it.
"""
