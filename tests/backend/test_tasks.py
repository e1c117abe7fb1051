"""Supervised tasks: a task that dies is logged, marked failing (so /readyz says 503), and
restarted; stop() cancels and awaits."""

from __future__ import annotations

import asyncio

import pytest

from backend import tasks


def test_a_task_that_dies_is_marked_failing_then_restarted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    runs: list[int] = []
    seen_failing: list[bool] = []

    async def flaky() -> None:
        runs.append(len(runs))
        seen_failing.append("flaky" in tasks.failing)
        if len(runs) == 1:
            raise RuntimeError("boom")
        await asyncio.sleep(3600)

    async def scenario() -> None:
        task = tasks.supervise("flaky", flaky)
        await asyncio.sleep(0.01)
        assert "flaky" in tasks.failing
        await asyncio.sleep(0.3)
        assert runs == [0, 1] and "flaky" not in tasks.failing
        await tasks.stop(task)
        assert task.done()

    asyncio.run(scenario())
    assert seen_failing == [False, False]
    assert "task flaky died" in caplog.text and "RuntimeError: boom" in caplog.text


def test_a_task_that_returns_is_not_restarted() -> None:
    runs: list[int] = []

    async def once() -> None:
        runs.append(1)

    async def scenario() -> None:
        task = tasks.supervise("once", once)
        await task
        await asyncio.sleep(0.05)

    asyncio.run(scenario())
    assert runs == [1]
