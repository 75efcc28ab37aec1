"""Fixtures every Telegram test shares: PTB's timedelta durations and the fake Bot API server."""

import pytest

from tests.fake_telegram import FakeTelegram


@pytest.fixture(autouse=True)
def ptb_timedelta(monkeypatch):
    """Opt in to PTB's timedelta durations, as `newsbot telegram` does (the int form warns)."""
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


@pytest.fixture
def tg():
    """The fake Bot API server on loopback."""
    server = FakeTelegram().start()
    yield server
    server.stop()
