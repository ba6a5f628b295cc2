"""cm-tracker over HTTP against the bare limit of its stack, both under gunicorn as in production.

Run: .venv/bin/python bench/web.py [--skip-sqlite] [--skip-postgres] [--seconds 5] [--workers 4] [--strict]
     (PostgreSQL: --postgres URL, else BENCH_POSTGRES_URL, else postgresql://postgres@127.0.0.1:5432/test; the bench
     works in its own database `bench_http` on that server, dropped and made anew each run.)

For SQLite (a file in a temporary folder) and PostgreSQL, it builds a clinic with cm-tracker's own code (a counselor
with 150 patients each in the 11th or 12th week of a 12-week, three-visits-a-week episode; bench/http_data.py),
starts cm-tracker (`gunicorn --workers 4 wsgi:app`, CM_ENV=production, rate limits off) and the limit app
(bench/limit_app.py: the same stack doing one statement per request) under the same gunicorn settings, and measures:
  a. GET /api/v1/patients/{id}/balance with a counselor's bearer token, 4 clients: req/s as a share of the limit
     app's GET /sum at 4 clients (target >= 35%); and the SQL statements of one balance read (target <= 4);
  b. POST /api/v1/patients/{id}/specimens (a final result), 4 clients each on its own patients: p95 against the limit
     app's INSERT + commit at 4 clients (targets <= 4x and < 60 ms);
  c. the counselor's caseload page /staff/ (150 patients), signed in through the sign-in form: p95 at 1 client
     (target < 100 ms);
  d. the patient portal's home /portal/, signed in as the patient: p95 at 1 client (target < 100 ms).
Each figure is measured for --seconds after one second of warm-up; before c and d, as many clients as workers ask
for each page first, so that no worker answers its first page (templates and statements compiled) while measured.
The SQL statements are counted in-process (Flask test client, a before_cursor_execute listener), each on a
request's second run. It prints a table and exits 0 (it is a report) unless --strict is given and a figure misses its
target. Every process it starts is ended, also on Ctrl-C, SIGTERM or an error. Not part of the test suite; a default
run takes about two minutes.
"""

import os
import sys

# Run as a script, this folder comes first on sys.path; the package's parent must be there for `bench.*`.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.http_run import main

if __name__ == "__main__":
    sys.exit(main())
