"""The verdict sounds: a rising chime for "approved", a low buzz for "refused".

Sound is a help, never a requirement: with no audio device (a CI box, a muted tablet) loading or
playing fails and the verdict screen goes on silently.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

SOUNDS = Path(__file__).resolve().parent.parent / "assets" / "sounds"
APPROVE = SOUNDS / "approve.wav"
REFUSE = SOUNDS / "refuse.wav"

log = logging.getLogger(__name__)


class VerdictSounds:
    def __init__(self) -> None:
        self._sounds: dict[bool, Any] = {}
        self.loaded = False
        self.played: list[bool] = []  # what play() was asked for; the UI test checks the call happened

    def load(self) -> None:
        try:
            from kivy.core.audio import SoundLoader
        except Exception as exc:  # no audio provider in this Kivy build
            log.info("no audio provider: %s", exc)
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
