"""Pass sheets: real passes in, a PDF whose Chinese text and QR codes poppler and zbar can read."""

import os
import re

import pytest
from PIL import Image

from crypto.keys import KeyPair
from hub.documents import fonts
from hub.documents.errors import DocumentError
from hub.documents.pass_sheet import CARRY_ID_NOTICE, PassSheetItem, render_pass_sheet, short_pass_id
from tests.ci import skip_or_fail
from tests.factories import make_pass
from tests.hub.documents.doc_pdf_tools import pdf_fonts, pdf_pages_png, pdf_text

NOW = 1_790_000_000  # 2026-09-21 14:13 UTC = 22:13 in Taipei
NAMES = ["陳大明", "歐陽娜娜", "林志玲", "王明", "張三豐"]


@pytest.fixture(scope="module")
def pass_texts():
    key = KeyPair.generate()
    texts = []
    for serial, name in enumerate(NAMES):
        texts.append(
            make_pass(
                key,
                serial=serial,
                now=NOW,
                holder_name=name,
                org_id="22099131",
                org_name="臺灣測試科技股份有限公司",
                kind="employee" if serial != 4 else "vehicle",
            )
        )
    return texts


def decode_qr_codes(png_paths):
    from pyzbar.pyzbar import ZBarSymbol, decode

    # QR codes only: zbar's 1D decoders once read a six-digit "barcode" out of a sheet's printed lines
    # (a CI run, 2026-12-07), a symbol the sheet does not carry and no checkpoint looks for
    found = []
    for path in png_paths:
        symbols = decode(Image.open(path), symbols=[ZBarSymbol.QRCODE])
        found.extend(symbol.data.decode() for symbol in symbols)
    return found


def test_sheet_shows_masked_names_and_the_notice(pass_texts):
    items = [PassSheetItem.from_pass(t) for t in pass_texts]
    text = pdf_text(render_pass_sheet(items))
    for masked in ("陳*明", "歐**娜", "林*玲", "王*", "張*豐"):
        assert masked in text
    for name in NAMES:
        assert name not in text
    assert text.count(CARRY_ID_NOTICE) == 5
    assert "A12*5*6*9*" in text
    assert "臺灣測試科技股份有限公司" in text
    assert text.count("員工通行證") == 4 and "車輛通行證" in text
    assert "生效：2026-09-21 22:13 (UTC+8)" in text and "到期：2026-10-21 22:13 (UTC+8)" in text
    for item in items:
        assert short_pass_id(item.pass_id) in text


def test_policy_can_show_the_full_name(pass_texts):
    text = pdf_text(render_pass_sheet([PassSheetItem.from_pass(pass_texts[0])], show_full_name=True))
    assert "陳大明" in text


def test_every_qr_on_the_sheet_scans_back_to_its_pass(pass_texts, tmp_path):
    pdf = render_pass_sheet([PassSheetItem.from_pass(t) for t in pass_texts])
    pages = pdf_pages_png(pdf, tmp_path, dpi=150)
    assert len(pages) == 2  # 4 on the first page, 1 on the second
    assert sorted(decode_qr_codes(pages)) == sorted(pass_texts)


@pytest.mark.parametrize(("per_page", "pages"), [(1, 5), (2, 3), (4, 2)])
def test_passes_per_page(pass_texts, tmp_path, per_page, pages):
    pdf = render_pass_sheet([PassSheetItem.from_pass(t) for t in pass_texts], per_page=per_page)
    assert len(pdf_pages_png(pdf, tmp_path, dpi=20)) == pages


def test_the_cjk_font_is_embedded(pass_texts):
    listing = pdf_fonts(render_pass_sheet([PassSheetItem.from_pass(pass_texts[0])]))
    cjk = [line for line in listing.splitlines() if "CheckpassCJK" in line]
    assert cjk, f"no converted Noto CJK subset (is fonttools installed? fonts-noto-cjk?):\n{listing}"
    assert all(re.search(r"\byes\b", line) for line in cjk)  # emb column


def test_without_any_font_file_the_builtin_cid_font_still_renders_chinese(pass_texts, monkeypatch):
    monkeypatch.setattr(fonts, "_CFF_CANDIDATES", ())
    monkeypatch.setattr(fonts, "_TRUETYPE_CANDIDATES", ())
    monkeypatch.setattr(fonts, "_whole_font", None)
    monkeypatch.delenv("CHECKPASS_CJK_FONT", raising=False)
    font = fonts.cjk_font_for("陳大明")
    assert font.source == "cid:MSung-Light" and not font.embedded
    pdf = render_pass_sheet([PassSheetItem.from_pass(pass_texts[0])])
    assert b"MSung-Light" in pdf
    assert "陳*明" in pdf_text(pdf)


def test_a_truetype_file_is_used_when_no_cff_font_converts(monkeypatch, pass_texts):
    candidates = [c for c in fonts._TRUETYPE_CANDIDATES if os.path.isfile(c[0])]
    if not candidates:
        # scripts/bootstrap installs fonts-wqy-microhei for exactly this test.
        skip_or_fail("no TrueType-outline CJK font on this machine (fonts-wqy-microhei)")
    monkeypatch.setattr(fonts, "_CFF_CANDIDATES", ())
    monkeypatch.setattr(fonts, "_whole_font", None)
    font = fonts.cjk_font_for("陳大明")
    assert font.source.startswith("truetype:") and font.embedded
    listing = pdf_fonts(render_pass_sheet([PassSheetItem.from_pass(pass_texts[0])]))
    assert re.search(r"TrueType .* yes yes yes", listing), listing
    assert "MSung" not in listing


def test_subset_fonts_are_cached_per_character_set():
    first = fonts.cjk_font_for("測試快取")
    assert fonts.cjk_font_for("取快試測") is first
    if first.source.startswith("subset:"):
        assert fonts.cjk_font_for("另一組字") is not first


def _item(**changes):
    base = dict(
        pass_text="TP1:ABC",
        holder_name="陳大明",
        masked_national_id="A12*5*6*9*",
        org_name="公司",
        kind="employee",
        not_before=NOW,
        expires_at=NOW + 60,
        pass_id=bytes(16),
    )
    base.update(changes)
    return PassSheetItem(**base)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"pass_text": "HC1:xyz"}, "TP1"),
        ({"pass_id": b"short"}, "16 bytes"),
        ({"holder_name": "  "}, "holder name is empty"),
        ({"masked_national_id": "A123456789"}, "masked"),
        ({"expires_at": NOW}, "expires before"),
    ],
)
def test_bad_items_are_refused(changes, message):
    with pytest.raises(DocumentError, match=message) as err:
        render_pass_sheet([_item(**changes)])
    assert "A123456789" not in str(err.value)


def test_empty_or_bad_layout_is_refused():
    with pytest.raises(DocumentError, match="no passes"):
        render_pass_sheet([])
    with pytest.raises(DocumentError, match="per_page"):
        render_pass_sheet([_item()], per_page=3)


def test_from_pass_refuses_what_is_not_a_pass():
    with pytest.raises(DocumentError, match="not a readable pass"):
        PassSheetItem.from_pass("TP1:NOT-A-PASS")
