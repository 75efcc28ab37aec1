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


@pytest.fixture
async def bot(tmp_path, tg, answerer, fake_index):
    """The bot of tests.telegram.world's settings, running against the fake server."""
    from tests.fake_telegram import RunningBot
    from tests.telegram.world import make_settings

    async with RunningBot(make_settings(tmp_path, tg), answerer, fake_index) as running:
        yield running
