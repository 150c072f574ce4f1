"""WSGI entry point (gunicorn, and ``runserver``, which loads WSGI_APPLICATION).

The process refuses to start when a key is missing or is not the one the database's data was
made with (``operations.key_canary``): it never serves, and never makes a new key, on a
database restored without its keys.
"""

import os
import sys
import threading

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

from operations.key_canary import KeysNotUsable, check_keys_at_start  # noqa: E402

try:
    check_keys_at_start()
except KeysNotUsable as refused:
    if threading.current_thread() is threading.main_thread():
        raise  # gunicorn: the worker fails to boot and the master stops, with this message
    # runserver loads the application in a thread of its autoreloader, where an exception
    # would leave the process waiting for a file change: exit, as runserver does itself.
    sys.stderr.write(f"{refused}\n")
    sys.stderr.flush()
    os._exit(1)
