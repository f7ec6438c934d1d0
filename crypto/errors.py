"""The one exception the crypto library raises for wrong input.

Following PyNaCl's style: every length, type and format problem is reported as a
`CryptoError`, so callers catch one name (it is a `ValueError`, so generic handlers work too).
"""

from __future__ import annotations


class CryptoError(ValueError):
    """Input that is not what the crypto library expects: bad length, format, signature or passphrase."""
