"""Console and file gateways, and building a gateway from settings."""

import io
import json
import multiprocessing
import os
import stat

import pytest

from crypto.identity import mask_mobile
from hub.sms import (
    ConsoleGateway,
    Every8dGateway,
    FileGateway,
    MitakeGateway,
    SmsError,
    SmsGateway,
    gateway_from_settings,
    latest_code,
    read_messages,
)

MOBILE = "+886912345678"


def test_console_prints_masked_mobile_and_the_code(capsys):
    receipt = ConsoleGateway().send(MOBILE, "您的驗證碼 482913")
    err = capsys.readouterr().err
    assert f"to {mask_mobile(MOBILE)}: 您的驗證碼 482913" in err
    assert "912345678" not in err
    assert receipt.provider == "console" and receipt.accepted and receipt.message_id


def test_console_can_hide_the_text():
    stream = io.StringIO()
    ConsoleGateway(stream=stream, show_text=False).send(MOBILE, "code 482913")
    assert "482913" not in stream.getvalue()
    assert "11 characters hidden" in stream.getvalue()


def test_file_gateway_appends_json_lines_and_latest_code_reads_them(tmp_path):
    path = tmp_path / "outbox" / "sms.jsonl"
    gateway = FileGateway(path)
    gateway.send(MOBILE, "驗證碼 111111")
    gateway.send("+886987654321", "驗證碼 222222")
    gateway.send(MOBILE, "驗證碼 333333，請於 30 秒內輸入")
    messages = read_messages(path)
    assert [m["to"] for m in messages] == [MOBILE, "+886987654321", MOBILE]
    assert messages[0]["text"] == "驗證碼 111111" and messages[0]["at"].endswith("+00:00")
    assert latest_code(path, MOBILE) == "333333"
    assert latest_code(path, "+886987654321") == "222222"
    assert latest_code(path, "+886900000000") is None
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    # Each line is one whole JSON document in UTF-8 (not \u escapes), so a person can read the outbox.
    assert "驗證碼" in path.read_text(encoding="utf-8").splitlines()[0]


def test_read_messages_of_a_missing_file_is_empty(tmp_path):
    assert read_messages(tmp_path / "none.jsonl") == []
    assert latest_code(tmp_path / "none.jsonl", MOBILE) is None


def test_read_messages_skips_a_line_still_being_written_but_refuses_a_corrupt_one(tmp_path):
    path = tmp_path / "sms.jsonl"
    FileGateway(path).send(MOBILE, "code 123456")
    with open(path, "ab") as f:
        f.write(b'{"to": "+8869')  # torn tail: no newline yet
    assert len(read_messages(path)) == 1
    with open(path, "ab") as f:
        f.write(b"\n")
    with pytest.raises(SmsError, match="line 2 is not JSON"):
        read_messages(path)


def test_file_gateway_cannot_write(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(SmsError, match="cannot open the SMS outbox"):
        FileGateway(blocker / "sms.jsonl").send(MOBILE, "code 123456")


def _send_many(path: str, start: int) -> None:
    gateway = FileGateway(path)
    for i in range(start, start + 200):
        gateway.send(MOBILE, f"code {i:06d} " + "長" * 3000)  # > 8 KiB: more than one buffered write


def test_concurrent_writers_never_interleave_lines(tmp_path):
    path = str(tmp_path / "sms.jsonl")
    ctx = multiprocessing.get_context("fork")
    workers = [ctx.Process(target=_send_many, args=(path, n * 1000)) for n in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(30)
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    assert len(lines) == 600
    codes = sorted(json.loads(line)["text"][5:11] for line in lines)
    assert codes == sorted(f"{n * 1000 + i:06d}" for n in range(3) for i in range(200))


def test_gateways_satisfy_the_protocol(tmp_path):
    for gateway in (
        ConsoleGateway(),
        FileGateway(tmp_path / "x"),
        Every8dGateway("http://127.0.0.1:1", "u", "p"),
        MitakeGateway("http://127.0.0.1:1", "u", "p"),
    ):
        assert isinstance(gateway, SmsGateway)


def test_gateway_from_settings_builds_each_kind(tmp_path):
    assert isinstance(gateway_from_settings("console"), ConsoleGateway)
    file_gateway = gateway_from_settings("FILE", path=str(tmp_path / "o.jsonl"), uid=None)
    assert isinstance(file_gateway, FileGateway)
    every8d = gateway_from_settings(
        "every8d", uid="u", password="p", base_url="http://127.0.0.1:1", timeout="3"
    )
    assert isinstance(every8d, Every8dGateway)
    assert isinstance(gateway_from_settings("mitake", username="u", password="p"), MitakeGateway)


@pytest.mark.parametrize(
    ("kind", "options", "message"),
    [
        (
            "carrier-pigeon",
            {},
            "unknown SMS gateway kind 'carrier-pigeon'; use one of: console, every8d, file, mitake",
        ),
        ("file", {}, "SMS gateway 'file' needs: path"),
        ("mitake", {"username": "u"}, "SMS gateway 'mitake' needs: password"),
        (
            "every8d",
            {"uid": "u", "password": "p", "username": "x"},
            "SMS gateway 'every8d' does not take: username",
        ),
        ("every8d", {"uid": "u", "password": "p", "timeout": "soon"}, "timeout must be a number"),
        ("every8d", {"uid": "u", "password": "p", "timeout": 0}, "timeout must be positive"),
    ],
)
def test_gateway_from_settings_refuses_bad_settings(kind, options, message):
    with pytest.raises(SmsError) as err:
        gateway_from_settings(kind, **options)
    assert message in str(err.value)
