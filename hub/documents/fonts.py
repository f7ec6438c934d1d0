"""A font that really renders Traditional Chinese in reportlab PDFs.

reportlab embeds only TrueType-outline fonts, and the CJK fonts Debian installs (fonts-noto-cjk's
NotoSansCJK-*.ttc) have PostScript (CFF) outlines, which reportlab refuses. So, in order of preference:

1. A CFF CJK font (Noto Sans CJK TC) + fontTools: per document, cut the font down to the characters the
   document uses and convert those outlines to TrueType (about 0.3 s); the PDF embeds that subset, so it
   prints the same on any machine and its text can be extracted (ToUnicode).
2. A TrueType-outline CJK font file (AR PL, WenQuanYi, Droid Sans Fallback, ...): registered once, embedded
   as a subset by reportlab.
3. reportlab's built-in CID font ``MSung-Light`` (Adobe-CNS1): nothing is embedded, the viewer supplies the
   glyphs. Last resort; every viewer on a machine with CJK fonts shows it.

``CHECKPASS_CJK_FONT`` (``/path/font.ttc`` or ``/path/font.ttc#3``) puts the operator's font first.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase._cidfontdata import widthsByUnichar
from reportlab.pdfbase.cidfonts import CIDFont, UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFError, TTFont

log = logging.getLogger(__name__)

CID_FALLBACK = "MSung-Light"

# (path, subfont index). Noto CJK TTCs: 0 JP, 1 KR, 2 SC, 3 TC, 4 HK - TC matches the city's 繁體中文.
_CFF_CANDIDATES: tuple[tuple[str, int], ...] = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 3),
    ("/usr/share/fonts/opentype/noto/NotoSansCJKtc-Regular.otf", 0),
    ("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc", 3),  # Fedora/Arch layout
    ("/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc", 3),
    ("/System/Library/Fonts/PingFang.ttc", 0),
)
_TRUETYPE_CANDIDATES: tuple[tuple[str, int], ...] = (
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
    ("/usr/share/fonts/truetype/arphic/ukai.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0),
)
_SUBSET_CACHE_SIZE = 32
# Always in the subset: so Latin text, digits and punctuation never fall outside it.
_BASE_CHARACTERS = "".join(chr(c) for c in range(0x20, 0x7F)) + "　，。、：；「」（）－～／．…・"


@dataclass(frozen=True)
class CjkFont:
    name: str  # registered reportlab font name
    source: str  # "subset:<file>", "truetype:<file>" or "cid:MSung-Light"
    embedded: bool


_lock = threading.Lock()
_subsets: OrderedDict[str, CjkFont] = OrderedDict()
_whole_font: CjkFont | None = None


def cjk_font_for(text: str) -> CjkFont:
    """A registered reportlab font able to draw every character of ``text`` (pass all the document's text)."""
    characters = "".join(sorted(set(text) | set(_BASE_CHARACTERS)))
    for path, index in _candidates(_CFF_CANDIDATES):
        font = _converted_subset(path, index, characters)
        if font is not None:
            return font
    global _whole_font
    with _lock:
        if _whole_font is None:
            _whole_font = _first_truetype() or _cid_font()
        return _whole_font


def cjk_font_file() -> tuple[str, int] | None:
    """The CJK font file (path, subfont index) the PDFs use, for drawing with other libraries (Pillow,
    FreeType read CFF outlines directly); None when the machine has none."""
    found = _candidates(_CFF_CANDIDATES) or _candidates(_TRUETYPE_CANDIDATES)
    return found[0] if found else None


def _candidates(defaults: tuple[tuple[str, int], ...]) -> list[tuple[str, int]]:
    chosen: list[tuple[str, int]] = []
    override = os.environ.get("CHECKPASS_CJK_FONT", "").strip()
    if override:
        path, _, index = override.partition("#")
        chosen.append((path, int(index) if index.isdigit() else 0))
    chosen.extend(defaults)
    return [(p, i) for p, i in chosen if Path(p).is_file()]


def _converted_subset(path: str, index: int, characters: str) -> CjkFont | None:
    key = hashlib.sha256(f"{path}#{index}\0{characters}".encode()).hexdigest()[:16]
    with _lock:
        cached = _subsets.get(key)
        if cached is not None:
            _subsets.move_to_end(key)
            return cached
    name = f"CheckpassCJK-{key}"
    try:
        data = _truetype_subset(path, index, characters, name)
    except ImportError:
        return None  # no fontTools: fall back to a TrueType file or the CID font
    except Exception as exc:  # a font we cannot convert: say so and try the next way
        log.warning("cannot convert CJK font %s#%d: %s", path, index, exc)
        return None
    try:
        pdfmetrics.registerFont(TTFont(name, io.BytesIO(data)))
    except TTFError as exc:
        log.warning("converted CJK font %s#%d is not usable: %s", path, index, exc)
        return None
    font = CjkFont(name=name, source=f"subset:{path}#{index}", embedded=True)
    with _lock:
        _subsets[key] = font
        while len(_subsets) > _SUBSET_CACHE_SIZE:
            old_key, old = _subsets.popitem(last=False)
            # Registered fonts live in reportlab's global table; drop the old subsets so a long-running
            # hub does not grow without bound.
            pdfmetrics._fonts.pop(old.name, None)
            pdfmetrics._dynFaceNames.pop(old.name, None)
    return font


def _truetype_subset(path: str, index: int, characters: str, postscript_name: str) -> bytes:
    """The glyphs for ``characters`` from a CFF font, as a small TrueType-outline font (bytes).

    The font is renamed ``postscript_name``: reportlab files fonts by that name and would otherwise hand
    every later subset of the same font the glyphs of the first one.
    """
    from fontTools.ttLib import TTFont as FtFont

    with FtFont(path, fontNumber=index, lazy=True) as font:
        return _subset_to_truetype(font, characters, postscript_name)


def _subset_to_truetype(font: Any, characters: str, postscript_name: str) -> bytes:
    from fontTools import subset
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import newTable

    options = subset.Options()
    options.layout_features = []
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.hinting = False
    options.desubroutinize = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=characters)
    subsetter.subset(font)
    for record in font["name"].names:
        if record.nameID == 6:
            record.string = postscript_name
    if "CFF " not in font:
        buffer = io.BytesIO()
        font.save(buffer)  # already TrueType outlines
        return buffer.getvalue()

    order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = {}
    for glyph_name in order:
        pen = TTGlyphPen(glyph_set)
        # TrueType wants quadratic curves and the opposite contour direction to CFF.
        glyph_set[glyph_name].draw(Cu2QuPen(pen, max_err=1.0, reverse_direction=True))
        glyf.glyphs[glyph_name] = pen.glyph()
    font["loca"] = newTable("loca")
    font["glyf"] = glyf
    del font["CFF "]
    if "VORG" in font:
        del font["VORG"]
    glyf.compile(font)
    metrics = font["hmtx"].metrics
    for glyph_name in order:
        advance, _ = metrics[glyph_name]
        metrics[glyph_name] = (advance, getattr(glyf.glyphs[glyph_name], "xMin", 0))
    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000
    for attribute in (
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
    ):
        setattr(maxp, attribute, 0)
    maxp.maxZones = 1
    post = font["post"]
    post.formatType = 2.0
    post.extraNames = []
    post.mapping = {}
    post.glyphOrder = order
    font.sfntVersion = "\x00\x01\x00\x00"
    buffer = io.BytesIO()
    font.save(buffer)
    return buffer.getvalue()


def _first_truetype() -> CjkFont | None:
    for path, index in _candidates(_TRUETYPE_CANDIDATES):
        name = "CheckpassCJK-" + hashlib.sha256(f"{path}#{index}".encode()).hexdigest()[:16]
        try:
            pdfmetrics.registerFont(TTFont(name, path, subfontIndex=index))
        except TTFError:
            continue  # e.g. PostScript outlines
        return CjkFont(name=name, source=f"truetype:{path}#{index}", embedded=True)
    return None


class _TraditionalChineseCIDFont(UnicodeCIDFont):
    """MSung-Light with the right encoding.

    reportlab's table pairs MSung-Light (Adobe-CNS1 collection) with UniGB-UCS2-H, the Simplified Chinese
    encoding; viewers then find no CMap and draw nothing. Adobe-CNS1's Unicode encoding is UniCNS-UCS2-H.
    """

    def __init__(self) -> None:
        CIDFont.__init__(self, CID_FALLBACK, "UniCNS-UCS2-H")
        self.language = "cht"
        self.name = self.fontName = CID_FALLBACK
        self.vertical = False
        self.isHalfWidth = False
        self.unicodeWidths = widthsByUnichar[CID_FALLBACK]


def _cid_font() -> CjkFont:
    log.warning("no embeddable CJK font found; PDFs use the viewer's %s", CID_FALLBACK)
    pdfmetrics.registerFont(_TraditionalChineseCIDFont())
    return CjkFont(name=CID_FALLBACK, source=f"cid:{CID_FALLBACK}", embedded=False)
