"""The remote generator against httpx's MockTransport (fast): SSE parsing, cancel, retries, one-line errors, token counts.

Also the worker with several threads, as used with a multi-slot LLM server. The real server is in test_remote_llm.py.
"""

import json
import queue
import threading
import time

import httpx
import pytest

from bot.core.ports import Usage
from bot.backends.remote import RemoteGenerator
from bot.core.events import Generated, Queued, Started, Token
from bot.core.worker import GenerationWorker, Job
from retrieval.errors import GenerationError
from tests.fakes import FakeGenerator

MESSAGES = [{"role": "system", "content": "Réponds."}, {"role": "user", "content": "Combien ?"}]


def _sse(*pieces: str, done: bool = True) -> list[bytes]:
    """An SSE body as the llama.cpp servers send it: one chat.completion.chunk per piece, then [DONE]."""
    events = [{"choices": [{"index": 0, "delta": {"role": "assistant"}}]}]
    events += [{"choices": [{"index": 0, "delta": {"content": p}}]} for p in pieces]
    lines = [f"data: {json.dumps(e)}\n\n".encode() for e in events]
    lines.insert(1, b": ping\n\n")
    return lines + ([b"data: [DONE]\n\n"] if done else [])


class Body(httpx.SyncByteStream):
    """A response body that yields chunks (optionally failing after them) and records that the client closed it."""

    def __init__(self, chunks: list[bytes], fail: Exception | None = None) -> None:
        self.chunks = chunks
        self.fail = fail
        self.sent = 0
        self.closed = False

    def __iter__(self):
        for c in self.chunks:
            self.sent += 1
            yield c
        if self.fail:
            raise self.fail

    def close(self) -> None:
        self.closed = True


class Server:
    """A scripted OpenAI-compatible server: each chat request takes the next scripted reply; records requests."""

    def __init__(self, *replies, tokenize: str | None = "llama_cpp") -> None:
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []
        self.tokenize = tokenize

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path == "/extras/tokenize/count" and self.tokenize == "llama_cpp":
            return httpx.Response(200, json={"count": len(json.loads(request.content)["input"].split())})
        if path == "/tokenize" and self.tokenize == "llama-server":
            return httpx.Response(200, json={"tokens": list(range(len(json.loads(request.content)["content"].split())))})
        if path != "/v1/chat/completions":
            return httpx.Response(404, json={"detail": "Not Found"})
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        if isinstance(reply, httpx.Response):
            return reply
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=reply)

    def chats(self) -> list[dict]:
        """The bodies of the chat requests."""
        return [json.loads(r.content) for r in self.requests if r.url.path.endswith("/chat/completions")]


def _gen(server: Server, **kw) -> RemoteGenerator:
    kw.setdefault("backoff_s", 0.01)
    return RemoteGenerator("http://llm.test:8080/v1", n_ctx=2048, transport=httpx.MockTransport(server), **kw)


def test_streams_the_pieces_with_the_same_messages_and_settings():
    server = Server(Body(_sse("Meta ", "investit ", "[1].")))
    gen = _gen(server, api_key="sk-test", model="llama-3.1-8b", temperature=0.3)
    usage = Usage()
    assert list(gen.stream(MESSAGES, 32, threading.Event(), usage)) == ["Meta ", "investit ", "[1]."]
    body = server.chats()[0]
    assert body["messages"] == MESSAGES and body["stream"] is True and body["model"] == "llama-3.1-8b"
    assert body["max_tokens"] == 32 and body["temperature"] == 0.3
    assert server.requests[-1].headers["authorization"] == "Bearer sk-test"
    assert usage.completion_tokens == 3 and usage.prompt_tokens > 0
    assert gen.name == "llama-3.1-8b" and gen.n_ctx == 2048


def test_base_url_with_or_without_v1():
    for base in ("http://h:8080", "http://h:8080/", "http://h:8080/v1"):
        gen = RemoteGenerator(base, n_ctx=1024)
        assert (gen.api_url, gen.root_url, gen.name) == ("http://h:8080/v1", "http://h:8080", "h:8080")


def test_cancel_closes_the_response_at_the_next_chunk():
    body = Body(_sse(*[f"w{i} " for i in range(50)]))
    gen = _gen(Server(body))
    cancel = threading.Event()
    got = []
    for piece in gen.stream(MESSAGES, 64, cancel, Usage()):
        got.append(piece)
        if len(got) == 2:
            cancel.set()
    assert got == ["w0 ", "w1 "] and body.closed and body.sent < 10


def test_consumer_that_stops_early_closes_the_response():
    body = Body(_sse("a ", "b ", "c "))
    stream = _gen(Server(body)).stream(MESSAGES, 8, threading.Event(), Usage())
    assert next(stream) == "a "
    stream.close()
    assert body.closed


def test_connect_errors_before_the_first_token_are_retried():
    server = Server(httpx.ConnectError("Connection refused"), httpx.ConnectError("Connection refused"), Body(_sse("ok")))
    assert list(_gen(server, retries=3).stream(MESSAGES, 8, threading.Event(), Usage())) == ["ok"]
    assert len(server.chats()) == 3


def test_503_while_loading_is_retried():
    server = Server(httpx.Response(503, json={"error": {"message": "Loading model"}}), Body(_sse("ok")))
    assert list(_gen(server).stream(MESSAGES, 8, threading.Event(), Usage())) == ["ok"]


def test_unreachable_server_is_one_line_after_the_retries():
    server = Server(*[httpx.ConnectError("[Errno 111] Connection refused")] * 3)
    with pytest.raises(GenerationError) as err:
        list(_gen(server, retries=3).stream(MESSAGES, 8, threading.Event(), Usage()))
    msg = str(err.value)
    assert msg == "cannot reach the LLM server at http://llm.test:8080/v1 ([Errno 111] Connection refused) after 3 tries"


def test_cancel_during_the_retry_wait_stops_without_error():
    server = Server(*[httpx.ConnectError("refused")] * 3)
    cancel = threading.Event()
    cancel.set()
    assert list(_gen(server, retries=3, backoff_s=5).stream(MESSAGES, 8, cancel, Usage())) == []
    assert len(server.chats()) == 1


def test_server_dying_mid_answer_is_one_line_and_not_retried():
    body = Body(_sse("Meta ", "investit ", done=False), fail=httpx.RemoteProtocolError("peer closed connection without sending complete message body"))
    server = Server(body, Body(_sse("never")))
    got = []
    with pytest.raises(GenerationError, match=r"^the LLM server at http://llm.test:8080/v1 stopped mid-answer \(peer closed"):
        for piece in _gen(server).stream(MESSAGES, 8, threading.Event(), Usage()):
            got.append(piece)
    assert got == ["Meta ", "investit "] and len(server.chats()) == 1


@pytest.mark.parametrize(
    "reply, expected",
    [
        (httpx.Response(401, json={"detail": "Invalid API key"}), "refused the request (HTTP 401); check NEWSBOT_LLM_API_KEY"),
        (httpx.Response(404, text="no"), "has no /chat/completions (HTTP 404)"),
        (httpx.Response(400, json={"error": {"message": "the request exceeds the available context size\nmore"}}),
         "answered HTTP 400: the request exceeds the available context size"),
        (httpx.ReadTimeout("timed out"), "sent nothing for 120 s"),
    ],
)
def test_refusals_are_one_line_errors(reply, expected):
    with pytest.raises(GenerationError) as err:
        list(_gen(Server(reply)).stream(MESSAGES, 8, threading.Event(), Usage()))
    assert expected in str(err.value) and "\n" not in str(err.value)


def test_max_tokens_is_cut_to_the_context_window():
    server = Server(Body(_sse("ok")))
    gen = RemoteGenerator("http://h:1", n_ctx=600, transport=httpx.MockTransport(server))
    list(gen.stream([{"role": "user", "content": "mot " * 500}], 384, threading.Event(), Usage()))
    assert server.chats()[0]["max_tokens"] == 600 - (500 + 8)


@pytest.mark.parametrize("kind", ["llama_cpp", "llama-server"])
def test_count_tokens_uses_the_servers_tokenizer(kind):
    server = Server(tokenize=kind)
    gen = _gen(server)
    assert gen.count_tokens("un deux trois") == 3
    assert gen.count_tokens("un deux trois") == 3  # cached
    tokenize_calls = [r for r in server.requests if "tokenize" in r.url.path]
    assert len(tokenize_calls) == (1 if kind == "llama_cpp" else 2)  # llama-server's endpoint is found second


def test_count_tokens_estimates_without_a_tokenize_endpoint():
    server = Server(tokenize=None)
    gen = _gen(server)
    assert gen.count_tokens("x" * 300) == 100
    gen.count_tokens("encore")
    assert len(server.requests) == 2  # both endpoints probed once, then never again


def test_count_tokens_estimates_while_the_server_is_busy():
    def busy(request):
        raise httpx.ReadTimeout("busy")

    gen = RemoteGenerator("http://h:1", n_ctx=1024, transport=httpx.MockTransport(busy))
    started = time.perf_counter()
    assert gen.count_tokens("abc " * 30) == 40 and gen.count_tokens("other text") == 4
    assert time.perf_counter() - started < 1


def test_worker_runs_as_many_jobs_at_once_as_it_has_threads():
    gen = FakeGenerator()
    gen.release.clear()
    worker = GenerationWorker(gen, workers=2)
    boxes = [queue.Queue() for _ in range(3)]
    for box in boxes:
        worker.submit(Job(MESSAGES, 8, box.put))
    deadline = time.monotonic() + 5
    while len(gen.history) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)
    assert len(gen.history) == 2  # two running, the third waits
    assert boxes[0].get(timeout=1) == Started() and boxes[1].get(timeout=1) == Started()
    assert boxes[2].get(timeout=1) == Queued(2)
    gen.release.set()
    for box in boxes:
        events = []
        while not events or not isinstance(events[-1], Generated):
            events.append(box.get(timeout=5))
        assert any(isinstance(e, Token) for e in events)
    worker.stop()
