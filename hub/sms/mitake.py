"""Mitake (三竹資訊) SMS HTTP API, single-message send ``SmSend``.

What this follows (public sources found with the project's search tool; the vendor's manual itself was not
reachable):
- Several integrations in production code: ``POST https://smsapi.mitake.com.tw/api/mtk/SmSend?CharsetURL=UTF-8``,
  ``Content-Type: application/x-www-form-urlencoded``, form ``username, password, dstaddr, smbody`` and an
  optional ``clientid`` that the provider uses to drop duplicates; newlines in ``smbody`` are sent as the
  control character 0x06 (7a6163/mitake_sms, a Laravel driver's tests).
- The reply is INI-like, CRLF-separated: an optional ``[1]`` section header, then ``msgid=...``,
  ``statuscode=...``, ``AccountPoint=...`` on success, or ``statuscode=e`` with ``Error=...`` on failure;
  sometimes ``Duplicate=Y`` (minchao/go-mitake ``parseMessageResponse``).
- Status codes (minchao/go-mitake ``statusCodeMap``): ``0`` scheduled, ``1``-``3`` reached the carrier,
  ``4`` reached the handset; ``5`` content error, ``6`` number error, ``7`` SMS disabled, ``8`` delivery
  timed out, ``9`` schedule cancelled; letters and ``*`` are account/system errors (``e`` wrong
  username/password, ``s`` accounting failure, ``r``/``a``/``b`` service paused, ``v`` invalid mobile, ...).

Mapping: 0-4 accepted; 5-9 and ``v`` mean the provider understood but will not deliver this message
(``accepted=False``); other letters and ``*`` raise SmsError; so does a reply without a status code.
"""

from __future__ import annotations

import logging
import uuid

from hub.sms.gateway import SmsError, SmsReceipt, check_text, masked, to_local_mobile
from hub.sms.http import FormPoster

log = logging.getLogger(__name__)

SEND_PATH = "/api/mtk/SmSend"
DEFAULT_BASE_URL = "https://smsapi.mitake.com.tw"

ACCEPTED_CODES = {"0", "1", "2", "3", "4"}
# Message-level refusals: the account works, this text will not be delivered.
REFUSED_CODES = {
    "5": "content error",
    "6": "mobile number error",
    "7": "SMS disabled for this number",
    "8": "delivery timed out",
    "9": "scheduled message cancelled",
    "v": "invalid mobile number",
}
# Account- or system-level errors (go-mitake's table, English for logs).
ERROR_CODES = {
    "*": "system error at the provider",
    "a": "SMS service temporarily stopped",
    "b": "SMS service temporarily stopped",
    "c": "username required",
    "d": "password required",
    "e": "wrong username or password",
    "f": "account expired",
    "h": "account disabled",
    "k": "connection address not allowed",
    "m": "password change required",
    "n": "password expired",
    "p": "no permission for the HTTP API",
    "r": "service paused",
    "s": "accounting failure (no points?)",
    "t": "message expired",
    "u": "message body empty",
}
_CONTROL_NEWLINE = "\x06"


class MitakeGateway:
    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        username: str = "",
        password: str = "",
        timeout: float = 10.0,
    ) -> None:
        if not username or not password:
            raise SmsError("mitake: username and password are required")
        self._http = FormPoster("mitake", base_url, timeout)
        self._username = username
        self._password = password

    def send(self, mobile_e164: str, text: str) -> SmsReceipt:
        body = check_text(text).replace("\r\n", "\n").replace("\n", _CONTROL_NEWLINE)
        form = {
            "username": self._username,
            "password": self._password,
            "dstaddr": to_local_mobile(mobile_e164),
            "smbody": body,
            "clientid": uuid.uuid4().hex,
        }
        reply = self._http.post(SEND_PATH, form, params={"CharsetURL": "UTF-8"})
        receipt = parse_send_reply(reply)
        log.info("sms via mitake to %s: %s", masked(mobile_e164), receipt.detail)
        return receipt

    def close(self) -> None:
        self._http.close()


def parse_send_reply(body: str) -> SmsReceipt:
    """Read an SmSend reply; raise SmsError for account/system errors or a reply of another shape."""
    values: dict[str, str] = {}
    for raw in body.splitlines():
        line = raw.strip()
        if not line or (line.startswith("[") and line.endswith("]")):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise SmsError(f"mitake: unreadable reply {body.strip()[:80]!r}")
        values[key.strip()] = value.strip()
    code = values.get("statuscode")
    if code is None:
        raise SmsError(f"mitake: reply without a status code {body.strip()[:80]!r}")
    provider_error = values.get("Error", "")[:200]
    if code in ACCEPTED_CODES:
        detail = f"statuscode {code}"
        if "AccountPoint" in values:
            detail += f", points left {values['AccountPoint']}"
        if values.get("Duplicate") == "Y":
            detail += ", duplicate of an earlier request"
        return SmsReceipt(
            provider="mitake", message_id=values.get("msgid") or None, accepted=True, detail=detail
        )
    if code in REFUSED_CODES:
        detail = f"statuscode {code}: {REFUSED_CODES[code]}" + (
            f" ({provider_error})" if provider_error else ""
        )
        return SmsReceipt(
            provider="mitake", message_id=values.get("msgid") or None, accepted=False, detail=detail
        )
    meaning = ERROR_CODES.get(code, "unknown status code")
    raise SmsError(
        f"mitake: refused with statuscode {code}: {meaning}"
        + (f" ({provider_error})" if provider_error else "")
    )
