"""One message catalogue (catalogue/locale, docs/i18n.md): every message key the code and templates use, every
refusal reason and every state word shown has a non-empty text in zh-TW and in English, with the same
placeholders; refusals and validation problems read as sentences, never as codes or `loc: msg`."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from pydantic import BaseModel, Field, ValidationError, field_validator

from hub.i18n import catalogue, refusals
from hub.services import errors as domain

ROOT = Path(__file__).resolve().parents[2]
ALLOWED_LATIN = (
    r"QR Code|CPE1|"  # the checkpoint app: the enrolment code's name (before QR alone) and its prefix
    r"\{[a-z_]+\}|LINE|QR|SMS|CSV|PDF|App|UUID|Excel|LibreOffice|xlsx|ods|csv|UTF-8|Big5|Asia/Taipei|YYYY|MM|DD|HH"
    r"|login\.failed|NTP|checkpass keys compromise"  # a product name, formats, a command to type
)
KEY = re.compile(r"[a-z][a-z_]*(\.[a-z0-9_]+)+|[a-z]+_[a-z_]+")
# The calls that take a message key, as `pybabel extract` is run (docs/i18n.md).
KEYWORDS = {
    "t": None,
    "translate": (2,),
    "text": (2,),
    "_problem_text": None,
    "CellProblem": None,
    "MenuItem": None,
    "Refused": (2,),
    "words_of": None,
    "_page": (3,),  # hub/line/pages.py: a LIFF page's title key
    "_liff_page": (4,),
    "_button": None,  # hub/line/menus.py: a rich-menu button's label key
}
LIFF_SCRIPT = "hub/line/static/pages.js"  # its `t("key")` calls: the texts the hub renders into each page


def _po(locale: str) -> dict[str, str]:
    with catalogue.po_path(locale).open("rb") as handle:
        return {m.id: m.string for m in read_po(handle) if m.id}


def _used_keys() -> set[str]:
    method_map = [
        ("hub/**.py", "python"),
        ("hub/**/templates/**.html", "jinja2"),
        (LIFF_SCRIPT, "javascript"),
    ]
    found: set[str] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, keywords=KEYWORDS
    ):
        for text in message if isinstance(message, tuple) else (message,):
            if isinstance(text, str) and KEY.fullmatch(text):
                found.add(text)
    return found


def _literals(pattern: str) -> set[str]:
    return {m for p in (ROOT / "hub").rglob("*.py") for m in re.findall(pattern, p.read_text())}


def _dynamic_keys() -> set[str]:
    """Keys the code builds from a word: refusals by reason, things by kind, done messages, states."""
    from crypto.trust import KeyState
    from crypto.verify import Reason
    from hub.services import data_reads
    from hub.services.id_card_check import IdCardStatus

    keys = {f"refusal.{r}" for r in _literals(r'reason="([a-z_]+)"') | _literals(r'_wrong_code\("([a-z_]+)"')}
    keys |= {f"refusal.{cls.default_reason}" for cls in vars(domain).values() if isinstance(cls, type)
             and issubclass(cls, domain.DomainError)}  # fmt: skip
    keys |= {f"thing.{w.replace(' ', '_')}" for w in _literals(r'NotFound\("([a-z _]+)"')}
    keys |= {f"done.{d}" for d in _literals(r'done="([a-z_]+)"')}
    keys |= {f"status.{s.value}" for s in KeyState}
    keys |= {f"status.{s}" for s in ("ok", "renew_soon", "expired", "missing", "online", "offline")}
    keys |= _literals(r'message_key="([a-z_.]+)"')
    keys |= {f"id_card.{s.value}" for s in IdCardStatus}
    keys |= {f"liff.reason.{r.value}" for r in Reason}  # the LIFF scan page's verdict reasons
    keys |= {f"read.{action}" for action in data_reads.READS}  # who read my data
    keys |= {f"read.format.{form}" for form in data_reads.FORMATS}
    keys |= _whitelist_keys()
    return keys


def _whitelist_keys() -> set[str]:
    """The keys every whitelist's handlers build from its kind (hub/console/whitelists.py,
    hub/line/liff_whitelists.py): its fields' labels, what was done, the delete question, its LIFF page."""
    from hub.line.liff_whitelists import PAGES

    keys: set[str] = set()
    for kind in (page.kind for page in PAGES.values()):
        keys |= {f"field.{f}" for f in kind.fields}
        keys |= {f"done.{kind.thing}_added", f"done.{kind.thing}_deleted", f"done.{kind.plural}_imported"}
        keys |= {f"confirm.delete_{kind.thing}"}
        keys |= {f"liff.whitelist.{kind.plural}.{w}" for w in ("who", "need_line")}
    return keys


def test_every_message_used_has_both_languages():
    zh, en = _po("zh_TW"), _po("en")
    used = _used_keys() | _dynamic_keys()
    assert len(used) > 300  # the extraction found the code's keys, not nothing
    assert sorted(k for k in used if not zh.get(k)) == []
    assert sorted(k for k in used if not en.get(k)) == []


def test_both_catalogues_hold_the_same_keys_and_placeholders():
    zh, en = _po("zh_TW"), _po("en")
    assert set(zh) == set(en)
    fields = string.Formatter()
    for key in zh:
        assert zh[key] and en[key], key
        names = [{f for _, f, _, _ in fields.parse(text) if f} for text in (zh[key], en[key])]
        assert names[0] == names[1], key
        # zh-TW words name no English but these (names, formats); a language switch names the other one.
        if not key.startswith("lang.") and key != "checkpoint.lang_switch":
            words = re.sub(ALLOWED_LATIN, "", zh[key])
            assert not re.search(r"[A-Za-z]{3,}", words), (key, zh[key])


# The modules whose words the LINE chat sends (docs/line.md): each text is a `line.` key of the catalogue.
LINE_CHAT = (
    "hub/line/actions",
    "hub/services/line_bindings",
    "hub/line/channels",
    "hub/line/conversation",
    "hub/line/data_reads",
    "hub/line/liff_caller",
    "hub/line/messages",
    "hub/line/replies",
    "hub/services/support",
    "hub/line/webhook",
)
CJK = re.compile(r"[\u3400-\u9fff\uff01-\uff5e]")


def _code_strings(path: Path) -> list[tuple[int, str]]:
    """The string literals of a module that are not docstrings (comments are not strings)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


_JINJA_COMMENT = re.compile(r"\{#.*?#\}|<!--.*?-->", re.S)
_JS_COMMENT = re.compile(r"^\s*//.*$", re.M)
_JS_STRING = re.compile(r'"((?:[^"\\\n]|\\.)*)"')


def _line_files(pattern: str) -> list[Path]:
    return sorted((ROOT / "hub/line").rglob(pattern))


def test_the_liff_pages_menus_and_chat_write_no_chinese_outside_the_catalogue():
    """Every hub/line module, LIFF template and pages.js: a Chinese text is a catalogue key's, never
    written in the code (docstrings and comments may quote the city's words)."""
    modules = _line_files("*.py")
    templates = _line_files("*.html")
    assert len(modules) > 15 and len(templates) >= 8  # the files were found, not nothing
    written = [
        (p.relative_to(ROOT).as_posix(), n, v) for p in modules for n, v in _code_strings(p) if CJK.search(v)
    ]
    for template in templates:
        shown = _JINJA_COMMENT.sub("", template.read_text(encoding="utf-8"))
        written += [(template.name, 0, line) for line in shown.splitlines() if CJK.search(line)]
    script = _JS_COMMENT.sub("", (ROOT / LIFF_SCRIPT).read_text(encoding="utf-8"))
    written += [(LIFF_SCRIPT, 0, text) for text in _JS_STRING.findall(script) if CJK.search(text)]
    assert written == []


def test_the_liff_script_shows_catalogue_texts_the_page_carries():
    """The keys pages.js names are the ones the hub renders into every LIFF page (hub.line.pages), and
    each has both languages."""
    from babel.messages.extract import extract_from_file

    from hub.line.pages import script_keys

    named = {m[1] for m in extract_from_file("javascript", str(ROOT / LIFF_SCRIPT), keywords={"t": None})}
    assert len(named) > 15 and script_keys() == named
    zh, en = _po("zh_TW"), _po("en")
    assert sorted(k for k in named if not zh.get(k) or not en.get(k)) == []


def test_the_line_chat_says_only_catalogue_texts():
    """No zh-TW text is written in the chat's code: each is a `line.` key, found by the extraction (so the
    test above holds it to both languages), and the chat speaks zh-TW from the catalogue."""
    for module in LINE_CHAT:
        written = [(n, s) for n, s in _code_strings(ROOT / f"{module}.py") if CJK.search(s)]
        assert written == [], (module, written)
    used = {k for k in _used_keys() if k.startswith("line.")}
    zh, en = _po("zh_TW"), _po("en")
    assert len(used) > 100  # the chat's calls were found, not nothing
    assert sorted(k for k in used if not zh.get(k) or not en.get(k)) == []
    from hub.line import messages
    from hub.line.words import t

    assert messages.GREETING == zh["line.greeting"] and t("line.greeting", "en") == en["line.greeting"]


class _Person(BaseModel):
    national_id: str

    @field_validator("national_id")
    @classmethod
    def _nid(cls, value: str) -> str:
        raise ValueError("not a valid national ID (checksum failed)")


def _errors(model: type[BaseModel], **data: object) -> list:
    with pytest.raises(ValidationError) as caught:
        model(**data)
    return caught.value.errors()


def test_a_whitelists_delete_question_names_only_its_shown_fields():
    """The console asks before deleting an entry with the kind's shown fields (hub/console/whitelists.py):
    each language's question uses no placeholder they lack."""
    from hub.line.liff_whitelists import PAGES

    for kind in (page.kind for page in PAGES.values()):
        for language in ("zh-TW", "en"):
            values = dict.fromkeys(kind.fields, "X")
            question = catalogue.text(language, f"confirm.delete_{kind.thing}", **values)
            assert "{" not in question, (kind.thing, language)


def test_validation_problems_are_sentences_per_field():
    from typing import Annotated

    class Names(BaseModel):
        names: list[Annotated[str, Field(max_length=8)]]
        mobile: str

    errors = _errors(Names, names=["總部", "一二三四五六七八九"])
    assert (
        refusals.validation_message("zh-TW", errors) == "實聯碼名稱（第 2 個）：最多 8 個字；手機號碼：必填"
    )
    assert (
        refusals.validation_message("en", errors)
        == "Code name (no. 2): at most 8 characters; Mobile: required"
    )
    nid = refusals.validation_message("zh-TW", _errors(_Person, national_id="A123456788"))
    assert nid.startswith("身分證字號：格式不正確") and "checksum" not in nid


WORDED = [
    (
        domain.Invalid("current password wrong", field="current_password", reason="bad_credentials"),
        "目前密碼不正確。",
        "The current password is wrong.",
    ),
    (
        domain.Invalid(
            "at least 10 characters",
            field="new_password",
            reason="weak_password",
            message_key="password.too_short",
            params={"n": 10},
        ),
        "新密碼至少需 10 個字元。",
        "The new password needs at least 10 characters.",
    ),
    (domain.NotFound("station admin"), "找不到這筆警局管理者。", "No such station admin."),
    (domain.Invalid("mobile is bad", field="mobile"), "手機號碼：內容不正確。", "Mobile: not valid."),
    (domain.NotAllowed("needs permission x"), "您沒有權限做這件事。", "You are not allowed to do this."),
    (
        domain.Conflict("x", reason="a_reason_nobody_worded"),
        "與現有資料衝突，沒有任何變更。",
        "This conflicts with existing data; nothing changed.",
    ),
    (
        domain.TooManyRequests("x", retry_after=120, reason="login_throttled"),
        "登入失敗次數過多，請於 2 分鐘後再試。",
        "Too many failed logins; try again in 2 min.",
    ),
]


@pytest.mark.parametrize(("exc", "zh", "en"), WORDED)
def test_refusals_are_worded_by_reason_and_field(exc, zh, en):
    assert refusals.domain_message("zh-TW", exc) == zh
    assert refusals.domain_message("en", exc) == en


def test_accept_language_picks_the_language_zh_tw_by_default():
    pick = catalogue.from_accept_language
    assert pick(None) == pick("") == pick("fr-FR") == "zh-TW"
    assert pick("en-US,en;q=0.9") == "en"
    assert pick("zh-TW,zh;q=0.9,en;q=0.8") == "zh-TW"
    assert pick("en;q=0.5, zh-Hant;q=0.9") == "zh-TW"
    assert pick("fr, en;q=0.5") == "en"
