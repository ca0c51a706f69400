"""The gunicorn access log, without anything that could tie a log line to a respondent.

`gunicorn.conf.py` uses a format without client address, user agent, referrer or query string; this logger
also blanks the secret part of receipt paths (/r/<code>), so that log lines never carry a receipt code.
"""

from __future__ import annotations

import re

from gunicorn.glogging import Logger

_RECEIPT = re.compile(r"^/r/[^/]+")


class PrivateAccessLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["U"] = _RECEIPT.sub("/r/…", atoms["U"] or "")
        for secret in ("h", "a", "f", "q", "r"):  # address, agent, referrer, query, raw request line
            atoms[secret] = "-"
        for key in [k for k in atoms if k.startswith("{")]:  # request headers and WSGI environ entries
            atoms[key] = "-"
        return atoms
