"""Questions go first: background embedding waits while an answer is generated, and the bench measures it."""

import time


def test_embedding_waits_between_batches_while_an_answer_is_generated(fake_index, tmp_path):
    folder = tmp_path / "a"
    folder.mkdir()
    for i in range(3):
        (folder / f"{i}.txt").write_text(f"Article {i}\n\nLe conseil numéro {i} a voté le budget.\n", encoding="utf-8")
    busy_until = time.monotonic() + 0.4
    first_call = []
    embed = fake_index.embedder.embed_passages
    fake_index.embedder.embed_passages = lambda texts: first_call.append(time.monotonic()) or embed(texts)
    fake_index.indexer.yield_while = lambda: time.monotonic() < busy_until
    fake_index.indexer.batch = 1
    report = fake_index.indexer.ingest([folder])
    assert report.added == 3 and len(first_call) == 3 and first_call[0] >= busy_until


def test_bench_measures_ttft_during_a_refresh(answerer, fake_index):
    from bot.cli.bench import ttft_during_refresh

    before = fake_index.catalog.counts()[0]
    got = ttft_during_refresh(answerer, fake_index, articles=3)
    assert set(got) == {"ttft_idle_ms", "ttft_during_refresh_ms", "ttft_during_refresh_ratio"}
    assert got["ttft_idle_ms"] > 0 and got["ttft_during_refresh_ratio"] > 0
    assert fake_index.catalog.counts()[0] == before + 3 and fake_index.indexer.yield_while is None
