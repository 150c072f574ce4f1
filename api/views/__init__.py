"""REST endpoints under ``/api/v1/``: thin translations of requests into service calls.

One module per resource (``api.urls`` names each view by its module): applications, their
need items, the person behind a case, transitions, decisions and the trail, payment batches,
accounting exports and reminders; ``common`` holds the lookups they share. Every case is
looked up by its reference within the caller's scope (``api.selectors``), so a case the
caller may not see answers 404 exactly like one that does not exist.
"""
