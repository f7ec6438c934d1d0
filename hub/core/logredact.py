"""Keep personal data out of the web server's access log.

Some queries carry personal data in the query string (`/queries/visits?mobile=...`,
`/queries/passes?person=<name, mobile or national ID>`), and uvicorn's access log prints every request
line with its query string. This filter rewrites the logged path so query values never reach a log:
the parameter names stay (they say what was asked), the values become `***`.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl, quote

ACCESS_LOGGER = "uvicorn.access"


def redact_query(path: str) -> str:
    """`/x?mobile=0912345678&format=csv` -> `/x?mobile=***&format=***`."""
    base, sep, query = path.partition("?")
    if not sep:
        return path
    names = [name for name, _value in parse_qsl(query, keep_blank_values=True)]
    if not names:
        return f"{base}?***"
    return base + "?" + "&".join(f"{quote(name, safe='')}=***" for name in names)


class QueryStringRedactor(logging.Filter):
    """For uvicorn's access logger: its record args are (client, method, path?query, http_version,
    status). Any string argument holding a `?` is redacted, so a change of argument order in uvicorn
    cannot make the filter silently skip the path."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact_query(arg) if isinstance(arg, str) and "?" in arg else arg for arg in record.args
            )
        return True


def install_access_log_redaction() -> None:
    """Idempotent: create_app may run several times in one process (tests)."""
    access = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, QueryStringRedactor) for f in access.filters):
        access.addFilter(QueryStringRedactor())
