"""gunicorn's settings for cm-tracker, read by `gunicorn --config gunicorn.conf.py` (and by default from the current
directory). The README's production command gives the workers, threads, timeout and address on its command line;
a command line wins over this file.

gunicorn has no setting for its `Server` header (benoitc/gunicorn issue 825): it writes the module constant
`gunicorn.SERVER` ("gunicorn") into every answer, which tells a scanner what to try, and a `Server` header from the
app would be sent beside it, not instead. A config file runs before any worker answers, so the constant is replaced
here, both where gunicorn defines it and where its HTTP module reads it (in case that module was imported first).
"""

import gunicorn
import gunicorn.http.wsgi

SERVER_NAME = "cm-tracker"
gunicorn.SERVER = SERVER_NAME
gunicorn.http.wsgi.SERVER = SERVER_NAME

# The access log (off unless --access-logfile is given) names the path without its query string (%(U)s, not %(r)s
# or %(q)s) and no referrer (%(f)s, a whole URL): a search term or a name in a query string is health data.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms "%(a)s"'

# gunicorn 27's control socket (a Unix socket for `gunicornc`) sits at one path per user by default, so two
# instances on one host (a second site, a test run beside the live app) would fight over it; nothing here uses it.
control_socket_disable = True

# Threaded workers by default, as the README's command runs them: a sync worker counts a whole response against
# --timeout (30 s) and is killed in the middle of a long CSV export, which has answered 200 already; a gthread
# worker's main thread keeps reporting to the arbiter while a request thread streams, and a slow client holds one
# thread, not the worker (docs/reports.md, "Exports").
worker_class = "gthread"
threads = 4

# Once a worker has loaded the app (its ~150,000 objects of modules, mappers and compiled statements), those objects
# are moved out of the garbage collector's reach: they live as long as the worker, and a full collection walking
# them took ~0.4 s on a busy 2-core machine every dozen caseload pages, the page's slowest answers
# (docs/performance.md).
# Objects made by requests are collected as before.


def post_worker_init(worker):  # gunicorn's hook signature; the worker is not needed
    import gc

    gc.collect()
    gc.freeze()
