"""CallbackList: every user callback runs, in order, whatever another one does."""

from __future__ import annotations

import logging

import pytest

from directus_chat_widget._callbacks import CallbackList


def test_all_run_in_order_and_a_raising_one_is_logged_and_reported(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[str] = []
    errors: list[Exception] = []
    callbacks: CallbackList[[str]] = CallbackList("a test callback", on_error=errors.append)

    def broken(value: str) -> None:
        raise ValueError(f"broken on {value}")

    callbacks.add(lambda value: seen.append(f"first {value}"))
    callbacks.add(broken)
    callbacks.add(lambda value: seen.append(f"last {value}"))
    with caplog.at_level(logging.ERROR):
        callbacks("x")
    assert seen == ["first x", "last x"]
    assert [str(error) for error in errors] == ["broken on x"]
    assert "a test callback raised" in caplog.text


def test_remove_is_idempotent_and_safe_during_a_call() -> None:
    seen: list[int] = []
    callbacks: CallbackList[[int]] = CallbackList("a test callback")
    removers = []

    def once(value: int) -> None:
        seen.append(value)
        removers[0]()  # removes itself while the list is being called

    removers.append(callbacks.add(once))
    callbacks(1)
    callbacks(2)
    removers[0]()
    assert seen == [1]
    assert not callbacks and len(callbacks) == 0
