"""The verdict sounds: a rising chime for "approved", a low buzz for "refused".

Sound is a help, never a requirement: with no audio device (a CI box, a muted tablet) loading or
playing fails and the verdict screen goes on silently. Kivy's SDL2 audio provider reports a
missing device as CRITICAL (and each sound file as a WARNING), which reads like a crash to
an officer looking at the console; those records are held back and the app says it once, plainly.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

SOUNDS = Path(__file__).resolve().parent.parent / "assets" / "sounds"
APPROVE = SOUNDS / "approve.wav"
REFUSE = SOUNDS / "refuse.wav"

log = logging.getLogger(__name__)
NO_AUDIO_NOTICE = "Sound: no audio device, verdicts are shown without sound"


class AudioNoise(logging.Filter):
    """Holds back Kivy's audio-provider records (kept in `held` for the notice and for tests)."""

    PREFIXES = ("AudioSDL2:", "AudioFFPy:", "AudioGstplayer:", "AudioAvplayer:")

    def __init__(self) -> None:
        super().__init__()
        self.held: list[str] = []

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.levelno >= logging.WARNING and message.startswith(self.PREFIXES):
            self.held.append(message)
            return False
        return True


def _kivy_logger() -> logging.Logger:
    from kivy.logger import Logger

    return Logger


class VerdictSounds:
    def __init__(self) -> None:
        self._sounds: dict[bool, Any] = {}
        self.loaded = False
        self.played: list[bool] = []  # what play() was asked for; the UI test checks the call happened

    def load(self) -> None:
        # Installed before the provider is imported: it complains at import time. It stays on,
        # so a later play() on a dead device does not bring the noise back either.
        self.noise = AudioNoise()
        _kivy_logger().addFilter(self.noise)
        try:
            from kivy.core.audio import SoundLoader
        except Exception as exc:  # no audio provider in this Kivy build
            log.warning("%s (%s)", NO_AUDIO_NOTICE, type(exc).__name__)
            return
        for ok, path in ((True, APPROVE), (False, REFUSE)):
            try:
                sound = SoundLoader.load(str(path))
            except Exception as exc:
                log.info("cannot load %s: %s", path.name, exc)
                sound = None
            # With no audio device SDL hands back a Sound of length 0 that can never play.
            if sound is not None and (sound.length or 0) > 0:
                self._sounds[ok] = sound
        self.loaded = len(self._sounds) == 2
        if not self.loaded:
            log.warning(NO_AUDIO_NOTICE)

    def play(self, ok: bool) -> None:
        self.played.append(ok)
        sound = self._sounds.get(ok)
        if sound is None:
            return
        try:
            sound.stop()
            sound.play()
        except Exception as exc:
            log.info("cannot play a sound: %s", exc)
