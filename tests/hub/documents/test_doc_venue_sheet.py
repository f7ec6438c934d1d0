"""Venue-code posters: readable Chinese, a QR that scans back, the 8-character rule."""

import pytest
from PIL import Image
from pyzbar.pyzbar import decode

from hub.documents.errors import DocumentError
from hub.documents.venue_sheet import VenueSheetItem, render_venue_sheet
from tests.hub.documents.doc_pdf_tools import pdf_pages_png, pdf_text

VENUES = [
    VenueSheetItem("https://hub.example.tw/v/AB12CD34", "大門入口", "臺北市政府警察局大安分局", "AB12CD34"),
    VenueSheetItem("https://hub.example.tw/v/ZZ99YY88", "地下停車場B2", "臺灣測試科技股份有限公司"),
]


def test_one_poster_per_venue_with_headline_name_org_and_steps(tmp_path):
    pdf = render_venue_sheet(VENUES)
    text = pdf_text(pdf)
    assert text.count("實聯登記") == 2
    for venue in VENUES:
        assert venue.venue_name in text and venue.org_name in text
    assert "場所代碼：AB12CD34" in text
    assert "輸入手機號碼，並填入簡訊驗證碼" in text
    assert "28 天後自動刪除" in text
    assert len(pdf_pages_png(pdf, tmp_path, dpi=20)) == 2


def test_each_poster_qr_scans_back(tmp_path):
    pages = pdf_pages_png(render_venue_sheet(VENUES), tmp_path, dpi=72)
    found = [[s.data.decode() for s in decode(Image.open(page))] for page in pages]
    assert found == [[VENUES[0].qr_text], [VENUES[1].qr_text]]


def test_retention_days_follow_the_setting():
    assert "14 天後自動刪除" in pdf_text(render_venue_sheet(VENUES[:1], retention_days=14))


@pytest.mark.parametrize(
    ("venue", "message"),
    [
        (VenueSheetItem("x", "一二三四五六七八九", "org"), "longer than 8 characters"),
        (VenueSheetItem("x", "  ", "org"), "venue name is empty"),
        (VenueSheetItem("x", "門口", " "), "organisation name is empty"),
        (VenueSheetItem("", "門口", "org"), "QR text is empty"),
    ],
)
def test_bad_venues_are_refused(venue, message):
    with pytest.raises(DocumentError, match=message):
        render_venue_sheet([venue])


def test_nothing_to_print():
    with pytest.raises(DocumentError, match="no venue codes"):
        render_venue_sheet([])
