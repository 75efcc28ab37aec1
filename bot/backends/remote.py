"""A generator on an OpenAI-compatible server (llama-server, ``python -m llama_cpp.server``, vLLM): chat completions streamed over SSE."""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from typing import Iterator, Sequence
from urllib.parse import urlsplit

import httpx

from bot.core.ports import Usage
from retrieval.errors import GenerationError, one_line

log = logging.getLogger(__name__)

DEFAULT_CONNECT_TIMEOUT_S = 5.0
DEFAULT_RETRIES = 3  # connection attempts before the first token; after it, a failure ends the answer
RETRY_BACKOFF_S = 0.5  # doubled after each failed attempt
TOKENIZE_TIMEOUT_S = 2.0  # llama_cpp.server tokenizes under its model lock: while it streams, estimate instead
TOKENIZE_BUSY_S = 30.0  # after a tokenize timeout, estimate for this long before asking the server again
CHARS_PER_TOKEN = 3.0  # the estimate before the server has counted anything: errs towards more tokens (a safe budget)
MESSAGE_OVERHEAD = 8  # tokens the chat template adds around each message

# Tokenize endpoints, tried in order until one answers: llama_cpp.server's, then llama-server's (vLLM's has the same path).
_TOKENIZERS = (
    ("llama_cpp.server", "/extras/tokenize/count", lambda text, model: {"input": text, **({"model": model} if model else {})}),
    ("llama-server", "/tokenize", lambda text, model: {"content": text, "prompt": text, "add_special": False, **({"model": model} if model else {})}),
)


class RemoteGenerator:
    """Chat completions on a server; thread-safe, so several worker threads may stream at once (one per server slot)."""

    def __init__(
        self,
        base_url: str,
        *,
        n_ctx: int,
        api_key: str | None = None,
        model: str | None = None,
        temperature: float = 0.2,
        read_timeout_s: float = 120.0,
        connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
        retries: int = DEFAULT_RETRIES,
        backoff_s: float = RETRY_BACKOFF_S,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.api_url, self.root_url = _urls(base_url)
        parts = urlsplit(self.root_url)
        self.name = model or f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"
        self.n_ctx = n_ctx
        self.model = model
        self.temperature = temperature
        self.read_timeout_s = read_timeout_s
        self.retries = max(1, retries)
        self.backoff_s = backoff_s
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        timeout = httpx.Timeout(read_timeout_s, connect=connect_timeout_s)
        self._http = httpx.Client(headers=headers, timeout=timeout, transport=transport)
        self._lock = threading.Lock()
        self._tokenizer: tuple | None = None  # the endpoint that answered; None while unknown
        self._no_tokenizer = False  # the server has no tokenize endpoint: always estimate
        self._busy_until = 0.0
        self._counted = [0, 0]  # characters and tokens the server has counted, to calibrate the estimate
        self._cache: dict[str, int] = {}

    def stream(self, messages: Sequence[dict], max_tokens: int, cancel: threading.Event, usage: Usage) -> Iterator[str]:
        """Stream a completion; once ``cancel`` is set the response is closed at the next chunk, which stops the server."""
        prompt = sum(self.count_tokens(str(m.get("content", ""))) + MESSAGE_OVERHEAD for m in messages)
        usage.prompt_tokens = prompt
        if prompt + max_tokens > self.n_ctx:
            max_tokens = max(1, self.n_ctx - prompt)
        body = {"messages": list(messages), "max_tokens": max_tokens, "temperature": self.temperature, "stream": True}
        if self.model:
            body["model"] = self.model
        started = False
        delay = self.backoff_s
        for attempt in range(1, self.retries + 1):
            try:
                with self._http.stream("POST", f"{self.api_url}/chat/completions", json=body) as resp:
                    if resp.status_code == 503 and attempt < self.retries:  # llama-server answers 503 while it loads
                        raise _Retry(f"HTTP 503 {_error_text(resp)}")
                    if resp.status_code != 200:
                        raise GenerationError(self._status_error(resp))
                    for chunk in _sse_json(resp.iter_lines()):
                        if cancel.is_set():
                            return  # leaving the block closes the response: the server sees the client go
                        if chunk.get("usage"):
                            usage.prompt_tokens = chunk["usage"].get("prompt_tokens") or usage.prompt_tokens
                            usage.completion_tokens = chunk["usage"].get("completion_tokens") or usage.completion_tokens
                        for choice in chunk.get("choices") or []:
                            text = (choice.get("delta") or {}).get("content")
                            if text:
                                started = True
                                usage.completion_tokens += 1
                                yield text
                    return
            except (httpx.ConnectError, httpx.ConnectTimeout, _Retry) as exc:
                if started or attempt == self.retries:
                    raise GenerationError(
                        f"cannot reach the LLM server at {self.api_url} ({one_line(exc)}) after {attempt} tries"
                    ) from exc
                log.warning("LLM server at %s: %s; trying again in %.1f s", self.api_url, one_line(exc), delay)
                if cancel.wait(delay):
                    return
                delay *= 2
            except httpx.TimeoutException as exc:
                raise GenerationError(f"the LLM server at {self.api_url} sent nothing for {self.read_timeout_s:g} s") from exc
            except httpx.HTTPError as exc:
                where = "stopped mid-answer" if started else "failed"
                raise GenerationError(f"the LLM server at {self.api_url} {where} ({one_line(exc)})") from exc
            except json.JSONDecodeError as exc:
                raise GenerationError(f"the LLM server at {self.api_url} sent a chunk that is not JSON ({exc.msg})") from exc

    def count_tokens(self, text: str) -> int:
        """Tokens by the server's own tokenizer when it has an endpoint for it and is free, else a calibrated estimate."""
        if text in self._cache:
            return self._cache[text]
        n = self._server_count(text)
        if n is None:
            return self._estimate(text)
        if len(self._cache) > 4096:
            self._cache.clear()
        self._cache[text] = n
        return n

    def _server_count(self, text: str) -> int | None:
        """The server's count, or None (no endpoint, busy, or unreachable)."""
        if self._no_tokenizer or time.monotonic() < self._busy_until:
            return None
        candidates = [self._tokenizer] if self._tokenizer else list(_TOKENIZERS)
        for cand in candidates:
            kind, path, payload = cand
            try:
                resp = self._http.post(f"{self.root_url}{path}", json=payload(text, self.model), timeout=TOKENIZE_TIMEOUT_S)
            except httpx.TimeoutException:
                self._busy_until = time.monotonic() + TOKENIZE_BUSY_S
                return None
            except httpx.HTTPError:
                return None
            if resp.status_code in (404, 405):
                continue
            if resp.status_code != 200:
                return None
            try:
                data = resp.json()
                n = int(data["count"]) if "count" in data else len(data["tokens"])
            except (ValueError, KeyError, TypeError):
                continue
            with self._lock:
                if self._tokenizer is None:
                    log.info("counting tokens with the %s endpoint %s", kind, path)
                self._tokenizer = cand
                self._counted[0] += len(text)
                self._counted[1] += n
            return n
        if self._tokenizer is None:
            log.info("the LLM server at %s has no tokenize endpoint; estimating token counts", self.root_url)
            self._no_tokenizer = True
        return None

    def _estimate(self, text: str) -> int:
        """Characters divided by the ratio the server showed so far (a cautious default before it has counted)."""
        chars, tokens = self._counted
        ratio = min(CHARS_PER_TOKEN, 0.9 * chars / tokens) if tokens >= 200 else CHARS_PER_TOKEN
        return math.ceil(len(text) / max(ratio, 1.0))

    def _status_error(self, resp: httpx.Response) -> str:
        """A one-line message for a refused request."""
        if resp.status_code in (401, 403):
            return f"the LLM server at {self.api_url} refused the request (HTTP {resp.status_code}); check NEWSBOT_LLM_API_KEY"
        if resp.status_code == 404:
            return f"the LLM server at {self.api_url} has no /chat/completions (HTTP 404); NEWSBOT_LLM_BASE_URL usually ends in /v1"
        return f"the LLM server at {self.api_url} answered HTTP {resp.status_code}: {_error_text(resp)}"

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()


class _Retry(Exception):
    """A transient refusal (HTTP 503) worth another attempt."""


def _urls(base_url: str) -> tuple[str, str]:
    """The OpenAI API base (ending in /v1) and the server root (where the tokenize endpoints are)."""
    base = base_url.rstrip("/")
    if base.endswith("/v1"):
        return base, base[: -len("/v1")]
    return f"{base}/v1", base


def _sse_json(lines: Iterator[str]) -> Iterator[dict]:
    """The JSON objects of an SSE stream's ``data:`` lines, until ``[DONE]``; comments and pings are skipped."""
    for line in lines:
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            return
        if data:
            yield json.loads(data)


def _error_text(resp: httpx.Response) -> str:
    """The server's error message, on one line."""
    try:
        resp.read()
    except httpx.HTTPError:
        return resp.reason_phrase
    try:
        data = resp.json()
        err = data.get("error") or data.get("detail") or data if isinstance(data, dict) else data
        text = err.get("message") if isinstance(err, dict) else err
    except ValueError:
        text = resp.text
    return one_line(str(text or resp.reason_phrase))
