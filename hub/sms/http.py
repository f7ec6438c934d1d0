"""What the two HTTP gateways share: one form-encoded POST, and its failures turned into SmsError."""

from __future__ import annotations

import httpx

from hub.sms.gateway import SmsError


class FormPoster:
    """A kept-alive httpx client that POSTs a form and returns the decoded body of a 200 reply."""

    def __init__(self, provider: str, base_url: str, timeout: float) -> None:
        if not base_url or not base_url.startswith(("http://", "https://")):
            raise SmsError(f"{provider}: base_url must start with http:// or https://")
        if timeout <= 0:
            raise SmsError(f"{provider}: timeout must be positive")
        self.provider = provider
        self.base_url = base_url.rstrip("/")
        self.timeout = float(timeout)
        self._client = httpx.Client(timeout=self.timeout, follow_redirects=False)

    def post(self, path: str, form: dict[str, str], params: dict[str, str] | None = None) -> str:
        url = self.base_url + path
        try:
            response = self._client.post(url, data=form, params=params)
        except httpx.TimeoutException as exc:
            raise SmsError(f"{self.provider}: no answer within {self.timeout:g} s") from exc
        except httpx.HTTPError as exc:
            # Only the exception's class: its text may carry the URL, never the form (credentials).
            raise SmsError(f"{self.provider}: cannot reach the provider ({type(exc).__name__})") from exc
        if response.status_code != 200:
            raise SmsError(f"{self.provider}: HTTP {response.status_code} from the provider")
        return decode_reply(response.content)

    def close(self) -> None:
        self._client.close()


def decode_reply(body: bytes) -> str:
    # Both providers answer in UTF-8 when asked to, but error texts have been seen in Big5.
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("big5", errors="replace")
