"""Every8D and Mitake gateways against real local fake provider servers."""

import logging
import time

import pytest

from crypto.identity import mask_mobile
from hub.sms import Every8dGateway, MitakeGateway, SmsError, SmsReceipt
from hub.sms.every8d import parse_send_reply as parse_every8d
from hub.sms.mitake import parse_send_reply as parse_mitake
from tests.hub.fake_sms_providers import fake_every8d, fake_mitake

MOBILE = "+886912345678"


@pytest.fixture
def every8d_server():
    with fake_every8d() as server:
        yield server


@pytest.fixture
def mitake_server():
    with fake_mitake() as server:
        yield server


def every8d(server, password="every8d-secret", timeout=2.0):
    return Every8dGateway(server.base_url, "every8d-account", password, timeout)


def mitake(server, password="mitake-secret", timeout=2.0):
    return MitakeGateway(server.base_url, "mitake-account", password, timeout)


# --- EVERY8D ------------------------------------------------------------------------------------------


def test_every8d_sends_the_documented_form_and_reads_the_batch_id(every8d_server):
    receipt = every8d(every8d_server).send(MOBILE, "驗證碼 123456，30 秒內有效")
    assert every8d_server.problems == []
    (request,) = every8d_server.requests
    assert request.form == {
        "UID": "every8d-account",
        "PWD": "every8d-secret",
        "SB": "",
        "MSG": "驗證碼 123456，30 秒內有效",
        "DEST": "0912345678",
        "ST": "",
    }
    assert isinstance(receipt, SmsReceipt)
    assert receipt.provider == "every8d" and receipt.accepted
    assert receipt.message_id and receipt.message_id.endswith("-0000-4000-8000-000000000000")
    assert "credit left 99.0" in receipt.detail


def test_every8d_two_sends_get_two_batch_ids(every8d_server):
    gateway = every8d(every8d_server)
    first, second = gateway.send(MOBILE, "a 111111"), gateway.send("+886987654321", "b 222222")
    assert first.message_id != second.message_id
    assert [r.form["DEST"] for r in every8d_server.requests] == ["0912345678", "0987654321"]


def test_every8d_wrong_password_is_the_providers_error_code(every8d_server):
    with pytest.raises(SmsError, match=r"every8d: refused with code -300: 帳號或密碼錯誤") as err:
        every8d(every8d_server, password="wrong").send(MOBILE, "code 123456")
    assert "wrong" not in str(err.value)  # credentials never end up in the message


def test_every8d_error_mode(every8d_server):
    every8d_server.mode = "error"
    with pytest.raises(SmsError, match="code -300"):
        every8d(every8d_server).send(MOBILE, "code 123456")


def test_every8d_nothing_sent_is_not_accepted(every8d_server):
    every8d_server.mode = "refused"
    receipt = every8d(every8d_server).send(MOBILE, "code 123456")
    assert receipt.accepted is False
    assert "sent 0, unsent 1" in receipt.detail


def test_every8d_http_500(every8d_server):
    every8d_server.mode = "http500"
    with pytest.raises(SmsError, match="every8d: HTTP 500"):
        every8d(every8d_server).send(MOBILE, "code 123456")


def test_every8d_garbage_reply(every8d_server):
    every8d_server.mode = "garbage"
    with pytest.raises(SmsError, match="every8d: unreadable reply"):
        every8d(every8d_server).send(MOBILE, "code 123456")


def test_every8d_timeout(every8d_server):
    every8d_server.mode, every8d_server.delay = "slow", 2.0
    started = time.monotonic()
    with pytest.raises(SmsError, match=r"every8d: no answer within 0.3 s"):
        every8d(every8d_server, timeout=0.3).send(MOBILE, "code 123456")
    assert time.monotonic() - started < 1.5


def test_every8d_provider_down():
    with pytest.raises(SmsError, match=r"every8d: cannot reach the provider \(ConnectError\)"):
        Every8dGateway("http://127.0.0.1:9", "u", "p", 1.0).send(MOBILE, "code 123456")


@pytest.mark.parametrize(
    "body",
    ["", "87.0,1,1,0", "87.0,1,1,0,", "x,1,1,0,id", "-abc,oops", "87.0;1;1;0;id", "87.0,1,1,0,id,extra"],
)
def test_every8d_reply_parser_refuses_other_shapes(body):
    with pytest.raises(SmsError):
        parse_every8d(body)


def test_every8d_reply_parser_reads_the_documented_example():
    receipt = parse_every8d("87.0,1,1,0,00000000-0000-0000-0000-000000000000\r\n")
    assert receipt == SmsReceipt(
        "every8d", "00000000-0000-0000-0000-000000000000", True, "sent 1, unsent 0, cost 1, credit left 87.0"
    )


# --- Mitake -------------------------------------------------------------------------------------------


def test_mitake_sends_the_documented_form_and_reads_the_msgid(mitake_server):
    receipt = mitake(mitake_server).send(MOBILE, "第一行\n驗證碼 654321")
    assert mitake_server.problems == []
    (request,) = mitake_server.requests
    assert request.path == "/api/mtk/SmSend" and request.query == {"CharsetURL": "UTF-8"}
    assert request.form["username"] == "mitake-account"
    assert request.form["password"] == "mitake-secret"
    assert request.form["dstaddr"] == "0912345678"
    assert request.form["smbody"] == "第一行\x06驗證碼 654321"
    assert len(request.form["clientid"]) == 32
    assert receipt.provider == "mitake" and receipt.accepted
    assert receipt.message_id == "1000000001"
    assert receipt.detail == "statuscode 1, points left 99"


def test_mitake_each_send_has_its_own_clientid(mitake_server):
    gateway = mitake(mitake_server)
    gateway.send(MOBILE, "a 111111")
    gateway.send(MOBILE, "a 111111")
    assert len({r.form["clientid"] for r in mitake_server.requests}) == 2


def test_mitake_wrong_password(mitake_server):
    with pytest.raises(
        SmsError, match=r"mitake: refused with statuscode e: wrong username or password \(帳號、密碼錯誤\)"
    ):
        mitake(mitake_server, password="bad").send(MOBILE, "code 123456")


def test_mitake_error_reply_in_big5_is_still_read(mitake_server):
    mitake_server.mode = "error_big5"
    with pytest.raises(SmsError, match="帳號、密碼錯誤"):
        mitake(mitake_server).send(MOBILE, "code 123456")


def test_mitake_invalid_number_is_a_refused_receipt(mitake_server):
    mitake_server.mode = "refused"
    receipt = mitake(mitake_server).send(MOBILE, "code 123456")
    assert receipt.accepted is False
    assert receipt.detail == "statuscode v: invalid mobile number (無效的手機號碼)"


def test_mitake_http_500(mitake_server):
    mitake_server.mode = "http500"
    with pytest.raises(SmsError, match="mitake: HTTP 500"):
        mitake(mitake_server).send(MOBILE, "code 123456")


def test_mitake_garbage_reply(mitake_server):
    mitake_server.mode = "garbage"
    with pytest.raises(SmsError, match="mitake: unreadable reply"):
        mitake(mitake_server).send(MOBILE, "code 123456")


def test_mitake_timeout(mitake_server):
    mitake_server.mode, mitake_server.delay = "slow", 2.0
    with pytest.raises(SmsError, match="mitake: no answer within 0.3 s"):
        mitake(mitake_server, timeout=0.3).send(MOBILE, "code 123456")


@pytest.mark.parametrize(
    ("body", "accepted", "message_id"),
    [
        ("msgid=0355319484\r\nstatuscode=1\r\nAccountPoint=292\r\n", True, "0355319484"),
        ("[1]\r\n\r\nmsgid=1\r\nstatuscode=4\r\n", True, "1"),
        ("[1]\r\nmsgid=2\r\nstatuscode=0\r\nAccountPoint=5\r\nDuplicate=Y\r\n", True, "2"),
        ("statuscode=6\r\n", False, None),
    ],
)
def test_mitake_reply_parser(body, accepted, message_id):
    receipt = parse_mitake(body)
    assert (receipt.accepted, receipt.message_id) == (accepted, message_id)


@pytest.mark.parametrize("body", ["", "[1]\r\nmsgid=3\r\n", "statuscode=*\r\n", "statuscode=s\r\n", "ok"])
def test_mitake_reply_parser_raises(body):
    with pytest.raises(SmsError):
        parse_mitake(body)


# --- shared rules -------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["0912345678", "+8869123456789", "+886212345678", "+14155550100", "", None])
def test_bad_mobile_is_refused_before_any_request(every8d_server, mitake_server, bad):
    for gateway in (every8d(every8d_server), mitake(mitake_server)):
        with pytest.raises(SmsError, match="not a Taiwan mobile number") as err:
            gateway.send(bad, "code 123456")
        if bad:
            assert bad not in str(err.value)
    assert every8d_server.requests == [] and mitake_server.requests == []


def test_empty_text_is_refused(every8d_server):
    with pytest.raises(SmsError, match="empty"):
        every8d(every8d_server).send(MOBILE, "  ")
    assert every8d_server.requests == []


def test_logs_never_hold_the_mobile_in_clear(every8d_server, mitake_server, caplog):
    caplog.set_level(logging.DEBUG)
    every8d(every8d_server).send(MOBILE, "code 123456")
    mitake(mitake_server).send(MOBILE, "code 123456")
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("hub.sms")]
    assert len(ours) == 2, "the gateways log each send"
    assert all(mask_mobile(MOBILE) in message for message in ours)
    assert "912345678" not in caplog.text


def test_missing_credentials_are_a_configuration_error():
    with pytest.raises(SmsError, match="uid and password"):
        Every8dGateway("http://127.0.0.1:1", "", "p")
    with pytest.raises(SmsError, match="username and password"):
        MitakeGateway("http://127.0.0.1:1", "u", "")
    with pytest.raises(SmsError, match="base_url"):
        MitakeGateway("ftp://x", "u", "p")
