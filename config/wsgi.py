"""WSGI entry point (gunicorn, and ``runserver``, which loads WSGI_APPLICATION).

The process refuses to start when a key is missing or is not the one the database's data was
made with (``operations.key_canary``): it never serves, and never makes a new key, on a
database restored without its keys. A database that does not answer at start is no reason to
refuse (gunicorn would halt for good when a recycled worker meets an outage): the keys are
then checked at the first request that reaches it (``operations.start_up_keys``).
"""

import os
import sys
import threading

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

from operations.key_canary import KeysNotUsable  # noqa: E402
from operations.start_up_keys import start_up_check  # noqa: E402

try:
    start_up_check.at_start()
except KeysNotUsable as refused:
    if threading.current_thread() is threading.main_thread():
        raise  # gunicorn: the worker fails to boot and the master stops, with this message
    # runserver loads the application in a thread of its autoreloader, where an exception
    # would leave the process waiting for a file change: exit, as runserver does itself.
    sys.stderr.write(f"{refused}\n")
    sys.stderr.flush()
    os._exit(1)
