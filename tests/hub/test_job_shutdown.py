"""A worker that stops (app shutdown) waits for a job run already going in its thread, so no job holds
a transaction after the app is gone (hub.jobs.runner.schedule)."""

from __future__ import annotations

import asyncio
import threading

import pytest

from hub.jobs import runner


def test_cancelling_the_scheduler_waits_for_the_run_in_progress():
    started, release = threading.Event(), threading.Event()
    finished: list[bool] = []

    def slow_run() -> bool:
        started.set()
        release.wait(10)
        finished.append(True)
        return True

    async def stop_while_running() -> None:
        task = asyncio.create_task(runner.finish_even_if_cancelled(asyncio.to_thread(slow_run)))
        assert await asyncio.to_thread(started.wait, 10)
        task.cancel()
        threading.Timer(0.3, release.set).start()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert finished == [True]  # the thread's run had ended when the cancellation came through

    asyncio.run(stop_while_running())


def test_an_uncancelled_run_gives_its_answer():
    async def run() -> bool:
        return await runner.finish_even_if_cancelled(asyncio.to_thread(lambda: False))

    assert asyncio.run(run()) is False
