"""Build the app's shipped assets: a Traditional Chinese font subset and the two verdict sounds.

Run once by a developer (`python -m checkpoint_app.assets.build_assets`); the outputs are committed,
so the app itself needs neither fontTools nor the Debian font package at run time.

Why a subset: Kivy's SDL2 text provider opens only face 0 of a .ttc, and face 0 of Debian's
NotoSansCJK-Regular.ttc is the *Japanese* face, whose glyphs differ from Taiwan's standard forms.
So we cut the TC face out of the collection and keep the whole CJK Unified Ideographs block
(20,992 hanzi: every Big5 character plus the variants found in Taiwanese names that Big5 lacks,
e.g. 凃 堃 温 黄), Big5's symbols, Latin, punctuation and the full-width forms: about 5 MB.
Extension A/B characters are left out; CHECKPASS_FONT can point at a complete font.
Needs fontTools (build time only) and fonts-noto-cjk.
"""

from __future__ import annotations

import argparse
import io
import math
import struct
import sys
import wave
from pathlib import Path

ASSETS = Path(__file__).resolve().parent
FONTS = ASSETS / "fonts"
SOUNDS = ASSETS / "sounds"

NOTO_DIR = Path("/usr/share/fonts/opentype/noto")
TC_FACE_NAME = "Noto Sans CJK TC"
FAMILY = "Checkpass Sans TC"

SAMPLE_RATE = 22050


def big5_characters() -> set[str]:
    """Every character Big5 (cp950) can encode: the repertoire Taiwanese records are written in."""
    chars: set[str] = set()
    for lead in range(0xA1, 0xFA):
        for trail in list(range(0x40, 0x7F)) + list(range(0xA1, 0xFF)):
            try:
                chars.add(bytes((lead, trail)).decode("cp950"))
            except UnicodeDecodeError:
                continue
    return chars


def wanted_codepoints() -> set[int]:
    points = set(range(0x20, 0x7F)) | set(range(0xA0, 0x180))  # ASCII, Latin-1, Latin Extended-A
    points |= set(range(0x2000, 0x2070))  # general punctuation (dashes, quotes, ellipsis)
    points |= set(range(0x2190, 0x21FF)) | set(range(0x2460, 0x24FF))  # arrows, circled digits
    points |= set(range(0x25A0, 0x2600)) | {0x2713, 0x26A0}  # shapes, check mark, warning sign
    points |= set(range(0x3000, 0x3040)) | set(range(0x3100, 0x3130))  # CJK punctuation, bopomofo
    points |= set(range(0xFF00, 0xFFF0))  # full-width forms (people type ＩＤ numbers this way)
    points |= set(range(0x4E00, 0xA000))  # CJK Unified Ideographs (URO)
    points |= {ord(c) for c in big5_characters()}
    return points


def _tc_face(path: Path):  # noqa: ANN202 - fontTools types are untyped
    from fontTools.ttLib import TTCollection

    collection = TTCollection(str(path))
    for font in collection.fonts:
        if font["name"].getDebugName(4) in (TC_FACE_NAME, f"{TC_FACE_NAME} Bold"):
            return font
    raise SystemExit(f"{path}: no '{TC_FACE_NAME}' face in this collection")


def build_font(source: Path, target: Path, style: str) -> int:
    from fontTools import subset

    font = _tc_face(source)
    options = subset.Options()
    # Kivy's SDL2 text provider shapes nothing (no GSUB/GPOS), so layout tables only cost bytes.
    options.layout_features = []
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.hinting = False  # CFF hints in CJK fonts are large and FreeType autohints fine
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=wanted_codepoints())
    subsetter.subset(font)
    _rename(font, style)
    buffer = io.BytesIO()
    font.save(buffer)
    target.write_bytes(buffer.getvalue())
    return len(buffer.getvalue())


def _rename(font, style: str) -> None:  # noqa: ANN001 - fontTools TTFont
    """A modified font gets its own name, so it is never mistaken for the complete Noto face."""
    name_table = font["name"]
    full = f"{FAMILY} {style}" if style != "Regular" else FAMILY
    postscript = f"{FAMILY.replace(' ', '')}-{style}"
    for record in name_table.names:
        if record.nameID in (1, 16):
            record.string = FAMILY
        elif record.nameID in (2, 17):
            record.string = style
        elif record.nameID == 3:
            record.string = f"{postscript};subset of {TC_FACE_NAME}"
        elif record.nameID == 4:
            record.string = full
        elif record.nameID == 6:
            record.string = postscript
    if "CFF " in font:
        cff = font["CFF "].cff
        cff.fontNames = [postscript]


def tone(frequencies: list[tuple[float, float]], volume: float = 0.6) -> bytes:
    """16-bit mono PCM of a sequence of (Hz, seconds) notes with short fades (no clicks)."""
    frames = bytearray()
    fade = int(SAMPLE_RATE * 0.01)
    for freq, seconds in frequencies:
        count = int(SAMPLE_RATE * seconds)
        for i in range(count):
            envelope = min(1.0, i / fade, (count - i) / fade)
            sample = 0.0 if freq <= 0 else math.sin(2 * math.pi * freq * i / SAMPLE_RATE)
            frames += struct.pack("<h", int(32767 * volume * envelope * sample))
    return bytes(frames)


def write_wav(path: Path, pcm: bytes) -> int:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(pcm)
    return path.stat().st_size


def build_sounds() -> dict[str, int]:
    SOUNDS.mkdir(parents=True, exist_ok=True)
    # Rising two-note chime for "pass"; low triple buzz for "refused": distinguishable without looking.
    approve = tone([(880.0, 0.12), (0.0, 0.03), (1318.5, 0.22)])
    refuse = tone([(220.0, 0.16), (0.0, 0.06), (220.0, 0.16), (0.0, 0.06), (220.0, 0.30)], volume=0.8)
    return {
        "approve.wav": write_wav(SOUNDS / "approve.wav", approve),
        "refuse.wav": write_wav(SOUNDS / "refuse.wav", refuse),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--noto-dir", type=Path, default=NOTO_DIR)
    parser.add_argument("--skip-fonts", action="store_true")
    args = parser.parse_args(argv)
    for name, size in build_sounds().items():
        print(f"sounds/{name}: {size} bytes")
    if args.skip_fonts:
        return 0
    FONTS.mkdir(parents=True, exist_ok=True)
    # One face only (about 5 MB): SDL_ttf emboldens it for bold labels, and a second real
    # Bold face would double the package for the verdict word alone.
    path = args.noto_dir / "NotoSansCJK-Regular.ttc"
    if not path.exists():
        print(f"missing {path}: install fonts-noto-cjk", file=sys.stderr)
        return 1
    target = FONTS / "CheckpassSansTC-Regular.otf"
    print(f"fonts/{target.name}: {build_font(path, target, 'Regular')} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
