"""OwnerLoop: calls and coroutines handed to one event loop from other threads.

Real threads and real asyncio loops (as a kernel subshell has), no fakes.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import ipywidgets
import pytest
from support import TIMEOUT, LoopThread

from directus_chat_widget.widget._owner import OwnerLoop


@pytest.fixture
def other() -> Iterator[LoopThread]:
    thread = LoopThread()
    yield thread
    thread.stop()


async def test_the_loop_running_where_it_is_made_owns_it() -> None:
    assert OwnerLoop().loop is asyncio.get_running_loop()


def test_without_a_loop_the_first_user_becomes_the_owner() -> None:
    owner = OwnerLoop()
    assert owner.loop is None

    async def use() -> asyncio.AbstractEventLoop:
        return await owner.run(current_loop())

    first = asyncio.run(use())
    assert owner.loop is first
    second = asyncio.run(use())  # the first loop has closed: the next one takes over
    assert owner.loop is second and second is not first


async def current_loop() -> asyncio.AbstractEventLoop:
    return asyncio.get_running_loop()


async def test_a_call_from_another_thread_runs_on_the_owner(other: LoopThread) -> None:
    owner = OwnerLoop()
    seen: list[str] = []
    done = asyncio.Event()

    def handler(value: str) -> None:
        seen.append(f"{value} on {threading.current_thread().name}")
        done.set()

    async def click() -> None:
        owner.calls(handler)("click")

    other.run(click())
    await asyncio.wait_for(done.wait(), TIMEOUT)
    assert seen == [f"click on {threading.current_thread().name}"]


async def test_a_call_on_the_owner_runs_at_once() -> None:
    owner = OwnerLoop()
    seen: list[int] = []
    owner.call(seen.append, 1)
    assert seen == [1]


async def test_run_from_another_loop_hands_back_result_and_error(other: LoopThread) -> None:
    owner = OwnerLoop()
    mine = asyncio.get_running_loop()

    async def where() -> asyncio.AbstractEventLoop:
        return await owner.run(current_loop())

    async def boom() -> None:
        raise LookupError("from the owner")

    async def fails() -> None:
        await owner.run(boom())

    # The other thread awaits while this loop stays free to do the work.
    assert await asyncio.to_thread(other.run, where()) is mine
    with pytest.raises(LookupError, match="from the owner"):
        await asyncio.to_thread(other.run, fails())


async def test_cancelling_the_awaiter_cancels_the_work_on_the_owner(other: LoopThread) -> None:
    owner = OwnerLoop()
    started = threading.Event()  # seen from the other thread
    cancelled = asyncio.Event()

    async def long_work() -> None:
        started.set()
        try:
            await asyncio.sleep(10 * TIMEOUT)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async def await_then_cancel() -> bool:
        task = asyncio.ensure_future(owner.run(long_work()))
        while not started.is_set():  # cancel only once the owner is at work
            await asyncio.sleep(0.01)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            return True
        return False

    result = asyncio.wrap_future(asyncio.run_coroutine_threadsafe(await_then_cancel(), other.loop))
    assert await asyncio.wait_for(result, TIMEOUT)
    await asyncio.wait_for(cancelled.wait(), TIMEOUT)


async def test_start_goes_ahead_unawaited_and_can_be_awaited_from_elsewhere(
    other: LoopThread,
) -> None:
    owner = OwnerLoop()
    ran: list[asyncio.AbstractEventLoop] = []

    async def work() -> int:
        ran.append(asyncio.get_running_loop())
        return 7

    task = owner.start(work())  # on the owner: a task, running without an await
    await asyncio.sleep(0)
    assert ran == [asyncio.get_running_loop()]
    assert await task == 7

    async def from_elsewhere() -> int:
        return await owner.start(work())  # type: ignore[misc]

    assert await asyncio.to_thread(other.run, from_elsewhere()) == 7
    assert ran[-1] is asyncio.get_running_loop()


async def test_an_owner_loop_that_does_not_run_is_a_clear_error() -> None:
    idle = asyncio.new_event_loop()  # made, never run (its thread is busy elsewhere)
    try:
        owner = OwnerLoop(idle)
        with pytest.raises(RuntimeError, match="not running"):
            await owner.run(current_loop())
        with pytest.raises(RuntimeError, match="no running event loop"):
            owner.start(current_loop())
    finally:
        idle.close()


async def test_adopt_hands_browser_messages_of_nested_widgets_to_the_owner(
    other: LoopThread,
) -> None:
    owner = OwnerLoop()
    text = ipywidgets.Text()
    inner = ipywidgets.VBox(children=(text,))
    box = ipywidgets.VBox(children=(inner,))
    owner.adopt(box)
    threads: list[str] = []
    changed = asyncio.Event()

    def observed(_change: object) -> None:
        threads.append(threading.current_thread().name)
        changed.set()  # safe: the observer runs on this loop's thread, which is the point

    text.observe(observed, "value")

    async def type_in_browser() -> None:
        text.comm.handle_msg(
            {"content": {"data": {"method": "update", "state": {"value": "hi"}}}, "buffers": []}
        )

    other.run(type_in_browser())
    await asyncio.wait_for(changed.wait(), TIMEOUT)
    assert threads == [threading.current_thread().name]
    assert text.value == "hi"
    for widget in (box, inner, text):  # all of them: an open box of closed ones breaks others
        widget.close()


async def test_a_failing_handed_over_call_never_logs_its_arguments(
    other: LoopThread, caplog: pytest.LogCaptureFixture
) -> None:
    """asyncio logs a failing callback's handle; a login's arguments carry the password."""
    owner = OwnerLoop()
    failed = asyncio.Event()

    def handler(password: str) -> None:
        failed.set()
        raise RuntimeError("a handler bug")

    async def submit() -> None:
        owner.calls(handler)("hunter2-not-for-logs")

    with caplog.at_level("ERROR", logger="asyncio"):
        other.run(submit())
        await asyncio.wait_for(failed.wait(), TIMEOUT)
        await asyncio.sleep(0)  # the loop logs the failure after the call returns
    assert "a handler bug" in caplog.text  # the probe: the failure itself was logged
    assert "hunter2-not-for-logs" not in caplog.text
