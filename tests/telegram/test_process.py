"""`newsbot telegram` as a process against the fake server: token refused (401), another instance (409), SIGTERM during generation; and one end-to-end answer from the real bundled model."""

import asyncio
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import ROOT, SEEDS
from tests.fake_telegram import TOKEN, FakeTelegram, RunningBot, message, until

ALICE, BOB = 11, 22
QUESTION = "Combien Meta prévoit-il d'investir dans Scale AI ?"

# The real run loop (bot.telegram.main.run_bot: signals, polling, shutdown) over the fakes, in a child process.
RUNNER = textwrap.dedent("""
    import logging, sys
    from pathlib import Path
    from bot.app import open_index
    from tests.conftest import make_answerer
    from bot.settings import Settings
    from bot.telegram.main import quiet_logs, run_bot
    from retrieval.errors import NewsbotError
    from tests.fakes import FakeEmbedder, FakeGenerator, MemoryStore

    data_dir, base_url, token, seeds = sys.argv[1:5]
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = Settings(data_dir=data_dir, telegram_token=token, telegram_base_url=base_url, allowed_users=[11, 22],
                        edit_interval_s=0.05, _env_file=None)
    quiet_logs(token)
    index = open_index(settings, embedder=FakeEmbedder(), store=MemoryStore())
    index.indexer.ingest([Path(seeds)])
    generator = FakeGenerator(delay_s=0.05)
    generator.enqueue(" ".join(f"mot{i}" for i in range(2000)))
    answerer = make_answerer(settings, index.searcher, generator, top_k=3, abstain_threshold=0.0)
    try:
        sys.exit(run_bot(settings, answerer, index.catalog, index.indexer))
    except NewsbotError as exc:
        print(f"newsbot: error: {exc}", file=sys.stderr)
        sys.exit(1)
""")


@pytest.fixture
def tg():
    server = FakeTelegram().start()
    yield server
    server.stop()


def env() -> dict:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    return {**clean, "PYTHONPATH": str(ROOT), "PTB_TIMEDELTA": "1"}


def start_runner(tmp_path, tg) -> subprocess.Popen:
    args = [sys.executable, "-c", RUNNER, str(tmp_path / "data"), tg.base_url, TOKEN, str(SEEDS)]
    return subprocess.Popen(args, cwd=ROOT, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


async def test_sigterm_during_generation_stops_and_tells_everyone(tmp_path, tg):
    proc = start_runner(tmp_path, tg)
    try:
        await until(lambda: tg.of("setMyCommands") or proc.poll() is not None, timeout=60, what="the bot to start")
        assert proc.poll() is None, proc.communicate()[1]
        tg.push(message(ALICE, ALICE, QUESTION))
        await until(lambda: tg.of("sendMessageDraft", ALICE), what="generation to start")
        tg.push(message(BOB, BOB, QUESTION))
        await until(lambda: any("ahead of you" in t for t in tg.texts(BOB)), what="Bob to wait in the queue")
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.to_thread(proc.communicate, timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    alice = [t for t in tg.texts(ALICE) if "mot0" in t]
    assert alice and "Stopped: the bot is restarting." in alice[-1] and "mot1999" not in alice[-1]
    assert tg.texts(BOB)[-1] == "The bot is restarting; please ask again in a minute."
    assert TOKEN not in err


async def test_another_instance_polling_is_refused(tmp_path, tg):
    tg.fail("getUpdates", 409, times=1000)
    proc = start_runner(tmp_path, tg)
    try:
        _, err = await asyncio.to_thread(proc.communicate, timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 1 and "another instance is already polling" in err and TOKEN not in err


def test_rejected_or_missing_token_refuses_to_start(tmp_path, tg):
    run_env = {**env(), "NEWSBOT_DATA_DIR": str(tmp_path), "NEWSBOT_TELEGRAM_BASE_URL": tg.base_url,
               "NEWSBOT_TELEGRAM_TOKEN": "999:WRONG-token"}
    done = subprocess.run([sys.executable, "-m", "bot", "telegram"], cwd=ROOT, env=run_env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "rejected by Telegram (401" in done.stderr and "WRONG" not in done.stderr
    del run_env["NEWSBOT_TELEGRAM_TOKEN"]
    done = subprocess.run([sys.executable, "-m", "bot", "telegram"], cwd=ROOT, env=run_env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "NEWSBOT_TELEGRAM_TOKEN is not set" in done.stderr


@pytest.mark.slow
async def test_end_to_end_with_the_bundled_model(tmp_path, tg, monkeypatch):
    from bot.app import build_answerer, load_generator, open_index
    from bot.settings import Settings

    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    settings = Settings(data_dir=tmp_path / "data", model="bundled", max_tokens=24, n_ctx=1024, top_k=1, telegram_token=TOKEN,
                        telegram_base_url=tg.base_url, allowed_users=[ALICE], edit_interval_s=0.2, _env_file=None)
    index = open_index(settings)
    try:
        await asyncio.to_thread(index.indexer.ingest, [SEEDS], False)
        generator = await asyncio.to_thread(load_generator, settings, interactive=False)
        answerer = build_answerer(settings, index, generator)
        async with RunningBot(settings, answerer, index):
            tg.push(message(ALICE, ALICE, "How much is Meta investing in Scale AI?"))
            await until(lambda: any(c.params.get("parse_mode") == "HTML" for c in tg.of("sendMessage", ALICE)), timeout=180,
                        what="the model's answer")
        answerer.close()
    finally:
        index.close()
    final = [c.params["text"] for c in tg.of("sendMessage", ALICE) if c.params.get("parse_mode") == "HTML"][-1]
    assert final.strip() and ("<b>Sources</b>" in final or "do not say" in final)
