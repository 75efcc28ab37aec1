"""Generation through a real OpenAI-compatible server (llama_cpp.server with the bundled model on loopback).

Streaming, the server's token counts, cancel reaching the server, and the server going away mid-answer and coming back.
"""

import threading
import time

import pytest

from bot.app import build_answerer, load_generator, open_index
from bot.core.events import Done, Token
from bot.core.ports import Usage
from bot.backends.remote import RemoteGenerator
from bot.settings import Settings
from retrieval.errors import GenerationError
from tests.conftest import SEEDS
from tests.fakes import FakeEmbedder, MemoryStore
from tests.servers import llm, llm_server  # noqa: F401  (fixture)

pytestmark = pytest.mark.slow
STORY = [{"role": "user", "content": "Write a very long story about a cat who travels around the world. Make it long."}]


def test_streams_pieces_and_counts_with_the_servers_tokenizer(llm_server):  # noqa: F811
    gen = RemoteGenerator(llm_server.url + "/v1", n_ctx=2048)
    usage = Usage()
    pieces = list(gen.stream([{"role": "user", "content": "Say hello."}], 12, threading.Event(), usage))
    assert len(pieces) >= 2 and "".join(pieces).strip()
    assert usage.completion_tokens == len(pieces) <= 12
    n = gen.count_tokens("Combien Meta prévoit-il d'investir ?")
    assert gen._tokenizer[0] == "llama_cpp.server" and 5 <= n <= 20
    gen.close()


def test_cancel_closes_the_request_and_the_server_stops(llm_server):  # noqa: F811
    gen = RemoteGenerator(llm_server.url, n_ctx=2048)
    cancel = threading.Event()
    pieces = []
    for piece in gen.stream(STORY, 400, cancel, Usage()):
        pieces.append(piece)
        if len(pieces) == 3:
            cancel.set()
    assert len(pieces) == 3
    deadline = time.monotonic() + 20
    while "Disconnected from client" not in llm_server.log_tail(4000) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "Disconnected from client" in llm_server.log_tail(4000)  # the server noticed and stopped generating
    assert list(gen.stream([{"role": "user", "content": "Hi"}], 4, threading.Event(), Usage()))  # and is free again
    gen.close()


def test_server_going_away_mid_answer_then_coming_back(tmp_path):
    server = llm(_bundled(), tmp_path).start()
    settings = Settings(
        data_dir=tmp_path / "data", llm_base_url=server.url, llm_n_ctx=2048, max_tokens=64, top_k=1,
        abstain_threshold=-1.0, _env_file=None,
    )
    index = open_index(settings, embedder=FakeEmbedder(), store=MemoryStore())
    index.indexer.ingest([SEEDS], progress=False)
    answerer = build_answerer(settings, index, load_generator(settings, interactive=False))
    try:
        question = "Raconte toute l'histoire de Meta et de Scale AI en détail."
        with pytest.raises(GenerationError) as err:
            for event in answerer.answer_sync(question):
                if isinstance(event, Token):
                    server.kill()
        assert "stopped mid-answer" in str(err.value) and server.url in str(err.value) and "\n" not in str(err.value)
        with pytest.raises(GenerationError, match=r"^cannot reach the LLM server at .* after 3 tries$"):
            list(answerer.answer_sync(question))
        
        server.start()
        events = list(answerer.answer_sync("Qui a fondé Scale AI ?"))
        assert isinstance(events[-1], Done) and any(isinstance(e, Token) for e in events)
    finally:
        answerer.close()
        answerer.generator.close()
        index.close()
        server.stop()


def _bundled():
    from bot.backends.model_files import bundled_model_path

    return bundled_model_path()
