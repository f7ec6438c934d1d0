import os

import pytest

from crypto.base45 import b45decode, b45encode
from crypto.errors import CryptoError

# RFC 9285 section 4.3 and 4.4 examples.
RFC_EXAMPLES = [
    (b"AB", "BB8"),
    (b"Hello!!", "%69 VD92EX0"),
    (b"base-45", "UJCLQE7W581"),
    (b"ietf!", "QED8WEX0"),
]


@pytest.mark.parametrize(("raw", "text"), RFC_EXAMPLES)
def test_rfc_examples(raw, text):
    assert b45encode(raw) == text
    assert b45decode(text) == raw


def test_round_trip_every_length():
    for n in range(0, 300):
        data = os.urandom(n)
        assert b45decode(b45encode(data)) == data


@pytest.mark.parametrize("text", ["GGW", "A", "QED8WEX", "abc", "ÄBC", ":::", "ZZ"])
def test_invalid_text(text):
    # GGW decodes to 65536 (RFC 9285 section 6), ZZ to 35*45+35 > 255.
    with pytest.raises(CryptoError):
        b45decode(text)
