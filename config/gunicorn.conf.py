"""gunicorn settings for ``make run-prod`` (all overridable from the environment).

On 2 cores next to a Celery worker and PostgreSQL: 3 sync workers (``WEB_CONCURRENCY``).
Static files are served by WhiteNoise from these workers; put a TLS proxy in front.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = 200
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Access log: no query strings beyond the path's filters, the request id to join with the
# application's JSON logs. No personal data is ever in a URL (references only).
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms rid=%({x-request-id}o)s'
errorlog = "-"


# Prometheus' multiprocess mode (README, Monitoring): with PROMETHEUS_MULTIPROC_DIR set, each
# worker counts into its own files there and /metrics sums them.
def on_starting(server: object) -> None:
    """Forget the numbers of processes that are gone (an earlier run) before counting anew."""
    from operations.multiprocess import clean_multiprocess_dir

    clean_multiprocess_dir()


def child_exit(server: object, worker: object) -> None:
    from operations.multiprocess import process_exited

    process_exited(worker.pid)  # type: ignore[attr-defined]
