"""Questions go first: background embedding pauses while an answer is under way, and resumes on every core after."""


class Answers:
    """A stand-in for Answerer.busy(): busy for a scripted number of polls, recording each poll in a shared log."""

    def __init__(self, log: list, busy_polls: int = 0) -> None:
        self.log = log
        self.left = busy_polls

    def start(self, polls: int) -> None:
        """An answer starts and lasts ``polls`` polls."""
        self.left = polls

    def __call__(self) -> bool:
        busy = self.left > 0
        self.left -= busy
        self.log.append("busy" if busy else "idle")
        return busy


def _articles(folder, n=3):
    folder.mkdir()
    for i in range(n):
        (folder / f"{i}.txt").write_text(f"Article {i}\n\nLe conseil numéro {i} a voté le budget de {folder.name}.\n", encoding="utf-8")
    return folder


def _logged(embedder, log, on_call=None):
    embed = embedder.embed_passages

    def embed_passages(texts, threads=None):
        log.append(("embed", len(texts), threads))
        if on_call:
            on_call()
        return embed(texts, threads=threads)

    embedder.embed_passages = embed_passages


def test_no_passage_is_embedded_while_an_answer_is_under_way(fake_index, tmp_path):
    log: list = []
    answers = Answers(log, busy_polls=5)
    _logged(fake_index.embedder, log)
    indexer = fake_index.indexer
    indexer.background(answers, batch=2, piece=1)
    indexer.poll_s = 0
    report = indexer.ingest([_articles(tmp_path / "a")])
    embeds = [e for e in log if e[0] == "embed"]
    assert report.added == 3 and len(embeds) == 3  # one piece per vector (a short passage under a name: one each)
    assert log[:6] == ["busy"] * 5 + ["idle"]  # five polls while the answer ran, nothing embedded before it ended
    assert all(threads is None for _, _, threads in embeds)  # idle: the embedder's every core


def test_an_answer_that_starts_during_a_refresh_stops_the_next_piece(fake_index, tmp_path):
    log: list = []
    answers = Answers(log)
    _logged(fake_index.embedder, log, on_call=lambda: answers.start(3) if len(log) == 2 else None)
    indexer = fake_index.indexer
    indexer.background(answers, batch=8, piece=1)
    indexer.poll_s = 0
    report = indexer.ingest([_articles(tmp_path / "a")])
    assert report.added == 3
    first = log.index(next(e for e in log if e[0] == "embed"))
    second = log.index(next(e for e in log[first + 1 :] if e[0] == "embed"), first + 1)
    assert log[first + 1 : second] == ["busy", "busy", "busy", "idle"]  # the piece in flight ends, the next waits its turn


def test_past_the_longest_pause_embedding_goes_on_on_one_thread_without_pausing_again(fake_index, tmp_path):
    log: list = []
    _logged(fake_index.embedder, log)
    indexer = fake_index.indexer
    indexer.background(Answers(log, busy_polls=10**6), piece=1)
    indexer.max_yield_s, indexer.poll_s = 0.05, 0.001
    report = indexer.ingest([_articles(tmp_path / "a")])
    embeds = [i for i, e in enumerate(log) if e[0] == "embed"]
    assert report.added == 3 and [log[i][2] for i in embeds] == [1, 1, 1]  # still busy: one thread
    assert log[embeds[0] + 1 : embeds[1]] == log[embeds[1] + 1 : embeds[2]] == ["busy"]  # one look, no second pause
    assert log[: embeds[0]].count("busy") > 1  # the first call did wait


def test_the_cli_embeds_whole_batches_on_every_core(fake_index, tmp_path):
    fake_index.indexer.background(lambda: True)
    fake_index.indexer.foreground()
    report = fake_index.indexer.ingest([_articles(tmp_path / "a")])
    assert report.added == 3 and fake_index.embedder.calls == [3] and fake_index.embedder.threads == [None]


def test_an_answer_is_busy_from_its_retrieval_on(answerer):
    seen = []
    search = answerer.searcher.search

    def watched(*args, **kwargs):
        seen.append(answerer.busy())
        return search(*args, **kwargs)

    answerer.searcher.search = watched
    assert not answerer.busy()
    events = list(answerer.answer_sync("Combien Meta va-t-elle investir dans Scale AI ?"))
    assert events and seen == [True]  # the query embedding and search already count
    assert not answerer.busy()


def test_bench_measures_ttft_during_a_refresh(answerer, fake_index):
    from bot.cli.bench import ttft_during_refresh

    before = fake_index.catalog.counts()[0]
    got = ttft_during_refresh(answerer, fake_index, articles=3)
    assert set(got) == {"ttft_idle_ms", "ttft_during_refresh_ms", "ttft_during_refresh_ratio"}
    assert got["ttft_idle_ms"] > 0 and got["ttft_during_refresh_ratio"] > 0
    assert fake_index.catalog.counts()[0] == before + 3 and fake_index.indexer.yield_while is None

