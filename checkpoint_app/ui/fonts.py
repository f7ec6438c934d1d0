"""Register one CJK font as Kivy's default, so every Label and TextInput renders Chinese.

Kivy's SDL2 text provider has no glyph fallback: a font without a character draws an empty
box. The app therefore ships a Traditional Chinese subset of Noto Sans CJK (Big5 repertoire,
see assets/build_assets.py) and makes it the default font. CHECKPASS_FONT points at another
.ttf/.otf (e.g. a full Noto Sans TC) for a deployment that needs characters outside Big5.
"""

from __future__ import annotations

import os
from pathlib import Path

FONT_ENV = "CHECKPASS_FONT"
ASSETS = Path(__file__).resolve().parent.parent / "assets"
SHIPPED_FONT = ASSETS / "fonts" / "CheckpassSansTC-Regular.otf"
FONT_NAME = "CheckpassTC"


class FontError(RuntimeError):
    pass


def font_path() -> Path:
    override = os.environ.get(FONT_ENV)
    if override:
        path = Path(override).expanduser()
        if path.suffix.lower() == ".ttc":
            # SDL_ttf opens face 0 of a collection, which for Noto CJK is the Japanese face.
            raise FontError(f"{FONT_ENV}: a .ttc collection cannot be used, give one .otf/.ttf face")
        if not path.is_file():
            raise FontError(f"{FONT_ENV}: no font file at {path}")
        return path
    if not SHIPPED_FONT.is_file():
        raise FontError(
            f"the shipped font is missing: {SHIPPED_FONT} (run checkpoint_app.assets.build_assets)"
        )
    return SHIPPED_FONT


def register_fonts() -> Path:
    """Make the CJK font Kivy's default (DEFAULT_FONT is what every widget uses unless told)."""
    from kivy.core.text import DEFAULT_FONT, LabelBase

    path = str(font_path())
    # The same face for bold: SDL_ttf emboldens it, and the verdict word is the only bold text.
    for name in (DEFAULT_FONT, FONT_NAME):
        LabelBase.register(name, fn_regular=path, fn_bold=path)
    return Path(path)
