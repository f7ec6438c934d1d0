"""Durability of a write path, checked directly: which bytes were fsynced, and when.

A test that kills a process cannot see a missing fsync: the OS page cache survives the process, so
the file is intact anyway. What survives a power cut is what was fsynced: a file's bytes at its last
fsync, and a directory entry (a rename) once its directory was fsynced. `record_fsyncs` wraps the real
`os.fsync` and `os.replace` (they still run) and records, for each fsync, the path of the descriptor and
the file's bytes at that moment (None for a directory), so a test can assert the write path's order.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest


@dataclass
class Fsync:
    path: Path
    content: bytes | None  # None: a directory


@dataclass
class Replace:
    source: Path
    target: Path


@dataclass
class FsyncLog:
    events: list[Fsync | Replace] = field(default_factory=list)

    def fsyncs_of(self, path: Path) -> list[Fsync]:
        return [e for e in self.events if isinstance(e, Fsync) and e.path == path.resolve()]

    def assert_durably_replaced(self, target: Path, data: bytes) -> None:
        """`target` was written as a temporary file holding `data`, fsynced, renamed over `target`, and
        the rename was made durable by an fsync of the directory afterwards."""
        target = target.resolve()
        renames = [i for i, e in enumerate(self.events) if isinstance(e, Replace) and e.target == target]
        assert renames, f"{target} was not written by rename (events: {self.events})"
        at = renames[-1]
        rename = self.events[at]
        assert isinstance(rename, Replace)
        before = [e for e in self.events[:at] if isinstance(e, Fsync) and e.path == rename.source]
        assert before and before[-1].content == data, (
            f"{rename.source} was not fsynced with its final bytes before the rename (events: {self.events})"
        )
        after = [e for e in self.events[at + 1 :] if isinstance(e, Fsync) and e.path == target.parent]
        assert after and after[0].content is None, (
            f"the directory {target.parent} was not fsynced after the rename (events: {self.events})"
        )

    def assert_fsynced_with(self, path: Path, data: bytes) -> None:
        """`path` was fsynced while it held (ended with) `data`: an append made durable."""
        synced = self.fsyncs_of(path)
        assert any(s.content is not None and s.content.endswith(data) for s in synced), (
            f"{path} was not fsynced after {data!r} was written (events: {self.events})"
        )


def record_fsyncs(monkeypatch: pytest.MonkeyPatch) -> FsyncLog:
    log = FsyncLog()
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: Any) -> None:
        number = fd if isinstance(fd, int) else fd.fileno()
        path = Path(os.readlink(f"/proc/self/fd/{number}"))
        if stat.S_ISDIR(os.fstat(number).st_mode):
            content = None
        else:
            content = path.read_bytes()  # what a reader sees now (written, maybe not yet durable)
        log.events.append(Fsync(path, content))
        real_fsync(fd)

    def replace(source: Any, target: Any, **kwargs: Any) -> None:
        log.events.append(Replace(Path(source).resolve(), Path(target).resolve()))
        real_replace(source, target, **kwargs)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    return log
