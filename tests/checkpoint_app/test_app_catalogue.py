"""The checkpoint app's words come from the one message catalogue (catalogue/locale, docs/i18n.md): every
key the app's code and kv rules use, every refusal its core raises, every verdict reason, ID-check result,
history state and pass kind it can show has a non-empty text in zh-TW and in English; and the catalogue
keeps no app text that nothing shows."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from babel.messages.extract import extract_from_dir

import catalogue
from checkpoint_app import errors
from checkpoint_app.models import IdCheckResult
from checkpoint_app.ui import i18n
from crypto import passes
from crypto.verify import Reason

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "checkpoint_app"
# kv rules are Python expressions, so Babel's Python extractor reads them too (babel.cfg).
METHOD_MAP = [("**.py", "python"), ("**.kv", "python")]
TR_KEYWORDS = {"tr": None, "_say": None}  # app.tr / i18n.tr, and the enrol screen's one-word helper


def _extracted(keywords: dict) -> list[tuple[str, int, str]]:
    found = []
    for filename, line, message, _comments, _context in extract_from_dir(
        str(APP), METHOD_MAP, keywords=keywords
    ):
        for text in message if isinstance(message, tuple) else (message,):
            if text:
                found.append((filename, line, text))
    return found


def _refusal_classes() -> set[str]:
    """The names of CheckpointError and every subclass of it, wherever in the app it is defined (read from
    the source: the screens' modules need Kivy to import)."""
    bases: dict[str, set[str]] = {}
    for path in APP.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                bases[node.name] = {b.id for b in node.bases if isinstance(b, ast.Name)}
    found = {errors.CheckpointError.__name__}
    while grown := {name for name, of in bases.items() if of & found} - found:
        found |= grown
    return found


def _screen_keys() -> set[str]:
    return {text for _f, _l, text in _extracted(TR_KEYWORDS)}


def _refusal_keys() -> set[str]:
    keywords = {name: (1,) for name in _refusal_classes()}
    keys = {text for _f, _l, text in _extracted(keywords)}
    # A subclass that names its own refusal (HubHTTPError: "hub_refused").
    keys |= {
        k for p in APP.rglob("*.py") for k in re.findall(r'super\(\).__init__\("([a-z_]+)"', p.read_text())
    }
    return keys


def _shown_states() -> set[str]:
    store = (APP / "store.py").read_text()
    return set(re.findall(r"state = '([a-z]+)'", store)) | set(re.findall(r'"state": "([a-z]+)"', store))


def _used() -> set[str]:
    used = {i18n.PREFIX + k for k in _screen_keys()}
    used |= {errors.REFUSAL + k for k in _refusal_keys()}
    used |= {f"checkpoint.verdict.{r.value}" for r in Reason} | {"checkpoint.verdict.unknown"}
    used |= {f"checkpoint.idcheck.{r.value}" for r in IdCheckResult}
    used |= {f"checkpoint.history_state_{s}" for s in _shown_states()}
    used |= {f"checkpoint.kind_{k}" for k in {passes.DEFAULT_KIND, *passes._KIND_CODES}}
    return used


def _id_card_keys() -> set[str]:
    """The hub's answers to an ID-card check, which the app words by status (shared with the hub)."""
    from hub.services.id_card_check import IdCardStatus

    return {i18n.ID_CARD + s.value for s in IdCardStatus}


def test_the_extraction_sees_the_apps_code_and_kv_rules():
    screen = _extracted(TR_KEYWORDS)
    assert len({t for _f, _l, t in screen}) > 75
    assert any(f.endswith(".kv") for f, _l, _t in screen) and any(f.endswith(".py") for f, _l, _t in screen)
    assert {"enrol_not_code", "hub_refused", "idcard_needs_network", "not_on_roster"} <= _refusal_keys()
    assert {"LoginError", "HubHTTPError", "IdCardNeedsNetworkError"} <= _refusal_classes()
    assert _shown_states() == {"queued", "sent", "parked"}


def test_every_message_the_app_shows_has_both_languages():
    zh, en = catalogue.messages("zh-TW"), catalogue.messages("en")
    used = _used() | _id_card_keys()
    assert sorted(k for k in used if not zh.get(k)) == []
    assert sorted(k for k in used if not en.get(k)) == []


def test_the_catalogue_keeps_no_app_text_nothing_shows():
    app_keys = {k for k in catalogue.messages("zh-TW") if k.startswith("checkpoint.")}
    assert sorted(app_keys - _used()) == []


def test_the_hubs_id_card_answer_reads_in_the_officers_language():
    assert i18n.id_card_text("revoked", "通行碼已撤銷，不予通行", "en") == "Pass revoked: refused"
    assert i18n.id_card_text("revoked", "通行碼已撤銷，不予通行", "zh") == "通行碼已撤銷，不予通行"
    assert i18n.id_card_text("a_newer_status", "新的狀態", "en") == "新的狀態"  # the hub's words, not a key


def test_a_screen_word_and_a_refusal_read_from_the_catalogue_in_both_languages():
    assert (
        i18n.tr("verdict_refused", "zh")
        == catalogue.text("zh-TW", "checkpoint.verdict_refused")
        == "不予通行"
    )
    assert i18n.tr("verdict_refused", "en") == catalogue.text("en", "checkpoint.verdict_refused") == "REFUSED"
    refused = errors.LoginError("login_hub_status", status=503)
    assert refused.text("zh") == "管理中心拒絕登入（狀態 503）"
    assert refused.text("en") == str(refused) == "login failed (hub status 503)"
