"""EVERY8D (互動資通) SMS HTTP API 2.1.

What this follows (public sources found with the project's search tool; the vendor's PDF manual itself was
not reachable):
- The vendor's own Classic-ASP sample (``SMSHttp`` class): ``POST http://api.every8d.com/API21/HTTP/sendSMS.ashx``
  with the form ``UID, PWD, SB, MSG, DEST, ST``; DEST may be ``+886912345678`` or ``0912345678`` (several
  comma-separated); ST empty means "send now". On success the body is ``CREDIT,SENDED,COST,UNSEND,BATCH_ID``
  (credit left, messages sent, credit spent, messages not sent for lack of credit, batch id); a body
  starting with ``-`` is a failure whose first field is the (negative) error code.
- minchao/every8d-php (an unofficial client): base URL ``https://oms.every8d.com/``, the same path and form,
  success example ``87.0,1,1,0,00000000-0000-0000-0000-000000000000``, failures ``<code>,<message>`` such as
  ``-3,無法取得指定發送資料``; anything but HTTP 200 is an error.

Assumptions: every negative code is an account- or request-level refusal (the code table is not public),
so it raises SmsError with the code and the provider's message; a success line with SENDED = 0 or
UNSEND > 0 means the provider took the request but sent nothing, reported as ``accepted=False``.
"""

from __future__ import annotations

import logging

from hub.sms.gateway import SmsError, SmsReceipt, check_text, masked, to_local_mobile
from hub.sms.http import FormPoster

log = logging.getLogger(__name__)

SEND_PATH = "/API21/HTTP/sendSMS.ashx"
DEFAULT_BASE_URL = "https://oms.every8d.com"


class Every8dGateway:
    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        uid: str = "",
        password: str = "",
        timeout: float = 10.0,
        subject: str = "",
    ) -> None:
        if not uid or not password:
            raise SmsError("every8d: uid and password are required")
        self._http = FormPoster("every8d", base_url, timeout)
        self._uid = uid
        self._password = password
        self._subject = subject  # SB: a note for the account's own records, never sent to the phone

    def send(self, mobile_e164: str, text: str) -> SmsReceipt:
        form = {
            "UID": self._uid,
            "PWD": self._password,
            "SB": self._subject,
            "MSG": check_text(text),
            "DEST": to_local_mobile(mobile_e164),
            "ST": "",
        }
        receipt = parse_send_reply(self._http.post(SEND_PATH, form))
        log.info("sms via every8d to %s: %s", masked(mobile_e164), receipt.detail)
        return receipt

    def close(self) -> None:
        self._http.close()


def parse_send_reply(body: str) -> SmsReceipt:
    """Read a sendSMS.ashx reply; raise SmsError for an error code or a reply of another shape."""
    text = body.strip()
    if not text:
        raise SmsError("every8d: empty reply")
    fields = [f.strip() for f in text.split(",")]
    if fields[0].startswith("-"):
        code = fields[0]
        message = ",".join(fields[1:]).strip()[:200]
        if not _is_number(code):
            raise SmsError(f"every8d: unreadable reply {_excerpt(text)!r}")
        raise SmsError(f"every8d: refused with code {code}" + (f": {message}" if message else ""))
    if len(fields) != 5 or not all(_is_number(f) for f in fields[:4]) or not fields[4]:
        raise SmsError(f"every8d: unreadable reply {_excerpt(text)!r}")
    credit, sent, cost, unsent, batch_id = fields
    accepted = float(sent) >= 1 and float(unsent) == 0
    detail = f"sent {sent}, unsent {unsent}, cost {cost}, credit left {credit}"
    return SmsReceipt(provider="every8d", message_id=batch_id, accepted=accepted, detail=detail)


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _excerpt(text: str) -> str:
    return text[:80]
