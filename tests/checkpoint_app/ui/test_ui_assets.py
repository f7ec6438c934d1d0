"""The shipped font and sounds: present, loadable, and covering what the UI shows."""

from __future__ import annotations

import os
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from checkpoint_app.ui import fonts, sounds

REPO = Path(__file__).resolve().parents[3]


def ui_strings() -> str:
    import catalogue
    from checkpoint_app.ui import i18n

    # Every checkpoint.* message: the screens' words, the core's refusals, verdict reasons, ID checks;
    # and the hub's ID-card answers, which the app words by status.
    parts = [i18n.tr(key, lang) for key in i18n.keys() for lang in i18n.LANGUAGES]
    answers = [key for key in catalogue.messages("zh-TW") if key.startswith(i18n.ID_CARD)]
    parts += [catalogue.text(lang, key) for key in answers for lang in catalogue.LOCALES]
    return "".join(parts)


def glyph_bitmap(font: ImageFont.FreeTypeFont, char: str) -> bytes:
    image = Image.new("L", (64, 64))
    ImageDraw.Draw(image).text((4, 4), char, font=font, fill=255)
    return image.tobytes()


def test_shipped_font_has_every_ui_character_and_common_names():
    font = ImageFont.truetype(str(fonts.SHIPPED_FONT), 40)
    tofu = glyph_bitmap(font, "\ue000")
    assert any(tofu), "the missing-glyph box should be visible, or this test proves nothing"
    # Characters of the UI, plus surnames and given-name characters common in Taiwan (Big5 level 2 too).
    names = (
        "陳林黃張李王吳劉蔡楊許鄭謝洪郭邱曾廖賴徐周葉蘇莊呂江何蕭羅高潘簡朱鍾游彭詹胡施沈余盧梁趙顏柯"
        "翁魏孫戴范方宋鄧杜傅侯曹薛丁卓阮馬董唐藍蔣石古紀姚連馮歐程湯田康姜白汪鄒尤巫鐘黎涂龔嚴韓袁"
        "金童陸夏柳邵錢伍倪溫于譚駱熊任甘秦顧毛章史官萬俞雷粘饒瑋婷怡萱彥霖宸翔瑄淯"
        "凃堃温黄"  # in names on Taiwanese ID cards, but not in Big5
    )
    text = ui_strings() + names
    missing = sorted({c for c in text if not c.isspace() and glyph_bitmap(font, c) == tofu})
    assert missing == []
    assert glyph_bitmap(font, "\U00020000") == tofu  # outside Big5: not shipped, and detected as such


def test_font_override_must_be_a_single_face(monkeypatch, tmp_path):
    monkeypatch.setenv(fonts.FONT_ENV, str(tmp_path / "fonts.ttc"))
    with pytest.raises(fonts.FontError, match="collection"):
        fonts.font_path()
    monkeypatch.setenv(fonts.FONT_ENV, str(tmp_path / "absent.otf"))
    with pytest.raises(fonts.FontError, match="no font file"):
        fonts.font_path()
    monkeypatch.delenv(fonts.FONT_ENV)
    assert fonts.font_path() == fonts.SHIPPED_FONT


def read_wav(path: Path) -> tuple[wave._wave_params, np.ndarray]:
    with wave.open(str(path)) as wav:
        params = wav.getparams()
        samples = np.frombuffer(wav.readframes(params.nframes), dtype="<i2")
    return params, samples


@pytest.mark.parametrize("path", [sounds.APPROVE, sounds.REFUSE], ids=["approve", "refuse"])
def test_sounds_are_short_audible_pcm(path):
    params, samples = read_wav(path)
    assert (params.nchannels, params.sampwidth) == (1, 2)
    assert 0.2 < params.nframes / params.framerate < 1.5
    assert np.abs(samples).max() > 10_000  # audible, not silence
    assert path.stat().st_size < 100_000


def test_approve_and_refuse_sound_different():
    _, approve = read_wav(sounds.APPROVE)
    _, refuse = read_wav(sounds.REFUSE)
    dominant = []
    for samples in (approve, refuse):
        spectrum = np.abs(np.fft.rfft(samples.astype(float)))
        dominant.append(np.argmax(spectrum) * 22050 / len(samples))
    assert dominant[0] > 2 * dominant[1]  # a high chime against a low buzz


def _load_sounds(audio_driver: str, tmp_path: Path, console: list[str] | None = None) -> str:
    env = dict(
        os.environ,
        SDL_AUDIODRIVER=audio_driver,
        KIVY_NO_ARGS="1",
        KIVY_HOME=str(tmp_path / "kivy"),
        PYTHONPATH=str(REPO),
    )
    env.pop("DISPLAY", None)
    code = (
        "from checkpoint_app.ui.sounds import VerdictSounds\n"
        "s = VerdictSounds(); s.load(); s.play(True); s.play(False)\n"
        "print('RESULT', s.loaded, s.played)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    if console is not None:
        console.extend((result.stdout + result.stderr).splitlines())
    return result.stdout.split("RESULT", 1)[1].strip()


def test_kivy_loads_and_plays_the_sounds(tmp_path):
    console: list[str] = []
    assert _load_sounds("dummy", tmp_path, console) == "True [True, False]"
    assert not [line for line in console if "no audio device" in line]


def test_no_audio_device_means_silence_not_a_crash(tmp_path):
    console: list[str] = []
    assert _load_sounds("no-such-audio-driver", tmp_path, console) == "False [True, False]"
    # Issue 10: no CRITICAL line (it reads like a crash), one plain notice instead.
    assert not [line for line in console if "CRITICAL" in line or "AudioSDL2" in line], console
    assert len([line for line in console if "no audio device" in line]) == 1, console
