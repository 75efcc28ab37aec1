"""The one way newsbot reads the web: a fetcher that refuses private addresses, big or slow answers and odd types (OWASP SSRF).

Every name is resolved through a Resolver seam and each of its addresses checked before connecting and after every
redirect; the request then goes to the checked address itself (the Host header and TLS SNI keep the name), so a
second DNS answer cannot swap in another address (DNS rebinding). The body is read as a stream, decompressed bytes
counted, under a total deadline: a watchdog shuts the connection's socket when it passes, so neither headers nor a body
that trickle in a byte at a time (each read inside its timeout) outlast it.
"""

from __future__ import annotations

import email.utils
import ipaddress
import socket
import threading
import time
import zlib
from dataclasses import dataclass, field
from typing import Callable, Protocol
from urllib.parse import urljoin, urlsplit

import httpx

from retrieval.errors import FetchError

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
DEFAULT_USER_AGENT = "newsbot/0.1 (self-hosted news question answering; feed and article reader)"
HTML_TYPES = ("text/html", "application/xhtml+xml")
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml", "text/xml",
              "application/feed+json", "application/json", *HTML_TYPES)  # HTML too: a feed URL may answer a page
RETRY_STATUSES = (429, 503)


class Resolver(Protocol):
    """Turns a host name into the addresses it points to."""

    def __call__(self, host: str, port: int) -> list[str]:
        """Every address of ``host``."""


def system_resolver(host: str, port: int) -> list[str]:
    """The system's DNS answer (getaddrinfo), every address of it."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"cannot resolve {host} ({exc})") from exc
    return list(dict.fromkeys(info[4][0] for info in infos))


def refused(address: str, allow_private: bool) -> str | None:
    """Why an address may not be fetched (loopback, private, link-local, multicast, reserved), or None when it may."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped  # ::ffff:10.0.0.1 is 10.0.0.1
    if ip.is_unspecified or ip.is_multicast:
        return "an unspecified or multicast address"
    if allow_private:
        return None
    for name in ("loopback", "link_local", "private", "reserved"):
        if getattr(ip, f"is_{name}"):
            return f"a {name.replace('_', '-')} address"
    return None if ip.is_global else "not a public address"


@dataclass(frozen=True)
class FetchConfig:
    """Limits of one fetcher; the defaults suit news pages and feeds."""

    max_bytes: int = DEFAULT_MAX_BYTES
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 15.0
    deadline_s: float = 30.0  # the whole fetch, redirects, headers and body included: a trickling server is cut off here
    max_redirects: int = 5
    allow_private: bool = False
    user_agent: str = DEFAULT_USER_AGENT
    retries: int = 2  # after a 429/503
    max_retry_after_s: float = 30.0


@dataclass(frozen=True)
class Fetched:
    """A fetched answer: final URL, status (200, or 304 for an unchanged conditional GET), type, charset and body."""

    url: str
    status: int
    content_type: str = ""
    charset: str | None = None
    body: bytes = b""
    etag: str | None = None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        """A 304: what we had is still current."""
        return self.status == 304


@dataclass
class Fetcher:
    """Fetches http(s) URLs safely; ``resolver``, ``transport`` and ``sleep`` are seams for tests."""

    config: FetchConfig = field(default_factory=FetchConfig)
    resolver: Callable[[str, int], list[str]] = system_resolver
    transport: httpx.BaseTransport | None = None
    sleep: Callable[[float], None] = time.sleep

    def __post_init__(self) -> None:
        timeout = httpx.Timeout(self.config.read_timeout_s, connect=self.config.connect_timeout_s)
        # No kept-alive connections: each request opens its own, whose socket the deadline's watchdog can shut.
        self._client = httpx.Client(transport=self.transport, timeout=timeout, follow_redirects=False, trust_env=False,
                                    limits=httpx.Limits(max_keepalive_connections=0))
        self._host_locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def fetch(self, url: str, accept: tuple[str, ...] = HTML_TYPES, etag: str | None = None,
              last_modified: str | None = None) -> Fetched:
        """GET ``url`` (conditionally when ``etag``/``last_modified`` are given), or raise FetchError naming it."""
        deadline = time.monotonic() + self.config.deadline_s
        watchdog = _Watchdog(self.config.deadline_s)
        current = url
        try:
            for _ in range(self.config.max_redirects + 1):
                try:
                    resp_url, got = self._get_once(current, accept, etag, last_modified, deadline, watchdog)
                except FetchError:
                    if watchdog.fired:
                        raise FetchError(f"{current}: too slow (over {self.config.deadline_s:g} s)") from None
                    raise
                if watchdog.fired:  # a shut socket reads as the end of a body without a length: never a short page
                    raise FetchError(f"{current}: too slow (over {self.config.deadline_s:g} s)")
                if got is not None:
                    return got
                current = resp_url
        finally:
            watchdog.cancel()
        raise FetchError(f"{url}: more than {self.config.max_redirects} redirects")

    def _get_once(self, url: str, accept, etag, last_modified, deadline, watchdog: "_Watchdog") -> tuple[str, Fetched | None]:
        """One request (with its 429/503 retries): the next URL of a redirect, or the final answer."""
        parts = self._check_url(url)
        host, port = parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
        address = self._checked_address(url, host, port)
        headers = {"User-Agent": self.config.user_agent, "Accept": ", ".join(accept) + ", */*;q=0.1",
                   "Accept-Encoding": "gzip, deflate", "Host": parts.netloc.rsplit("@", 1)[-1]}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        pinned = httpx.URL(url).copy_with(host=address)  # connect to the address we checked, not a fresh DNS answer
        with self._host_lock(host):
            for attempt in range(self.config.retries + 1):
                request = self._client.build_request("GET", pinned, headers=headers, extensions={
                    "sni_hostname": host, "timeout": self._timeouts(deadline, url), "trace": watchdog.trace})
                try:
                    resp = self._client.send(request, stream=True)
                except httpx.TimeoutException as exc:
                    raise FetchError(f"{url}: no answer in time ({type(exc).__name__})") from exc
                except httpx.HTTPError as exc:
                    raise FetchError(f"{url}: cannot connect ({_one_line(exc)})") from exc
                try:
                    if resp.status_code in RETRY_STATUSES and attempt < self.config.retries:
                        wait = self._retry_after(resp, attempt, url, deadline)
                        resp.close()
                        self.sleep(wait)
                        continue
                    return self._answer(url, resp, accept, deadline)
                finally:
                    resp.close()
        raise FetchError(f"{url}: still busy after {self.config.retries} retries")  # pragma: no cover - loop returns

    def _answer(self, url: str, resp: httpx.Response, accept, deadline) -> tuple[str, Fetched | None]:
        """A redirect's next URL, a 304, a checked 200 body, or FetchError for anything else."""
        if resp.status_code in (301, 302, 303, 307, 308):
            location = resp.headers.get("location")
            if not location:
                raise FetchError(f"{url}: a redirect without a Location")
            return urljoin(url, location), None
        meta = {"etag": resp.headers.get("etag"), "last_modified": resp.headers.get("last-modified")}
        if resp.status_code == 304:
            return url, Fetched(url, 304, **meta)
        if resp.status_code != 200:
            raise FetchError(f"{url}: HTTP {resp.status_code}")
        ctype = resp.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if ctype and ctype not in accept:
            raise FetchError(f"{url}: content type {ctype[:60]}, not one newsbot reads")
        declared = resp.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.config.max_bytes:
            raise FetchError(f"{url}: {int(declared) // 1_048_576} MB, over the {self._limit_text()} limit")
        inflate = _decoder(resp.headers.get("content-encoding", ""), url)
        body = bytearray()
        try:
            for piece in resp.iter_raw():  # raw bytes as they arrive, inflated here in bounded steps (a gzip bomb stops at the limit)
                while piece:
                    room = self.config.max_bytes + 1 - len(body)
                    body += inflate.decompress(piece, room) if inflate else piece[:room]
                    piece = inflate.unconsumed_tail if inflate else b""
                    if len(body) > self.config.max_bytes:
                        raise FetchError(f"{url}: more than the {self._limit_text()} limit")
                if time.monotonic() > deadline:
                    raise FetchError(f"{url}: too slow (over {self.config.deadline_s:g} s)")
        except httpx.TimeoutException as exc:
            raise FetchError(f"{url}: the answer stopped coming ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:  # the watchdog shut the socket, or the server broke off
            raise FetchError(f"{url}: the answer broke off ({_one_line(exc)})") from exc
        except zlib.error as exc:
            raise FetchError(f"{url}: damaged compressed body ({exc})") from exc
        return url, Fetched(url, 200, ctype, resp.charset_encoding, bytes(body), **meta)

    def _check_url(self, url: str):
        """The parsed URL when it is http(s) with a host, else FetchError."""
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError as exc:
            raise FetchError(f"{url[:200]}: not a valid URL") from exc
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError(f"{url[:200]}: only http and https addresses are fetched")
        return parts

    def _checked_address(self, url: str, host: str, port: int) -> str:
        """The first address of ``host``, after checking every one of them (one bad answer refuses the name)."""
        addresses = self.resolver(host, port)
        if not addresses:
            raise FetchError(f"{url}: {host} has no address")
        for address in addresses:
            why = refused(address, self.config.allow_private)
            if why:
                raise FetchError(f"{url}: refused, {host} is {why} (set NEWSBOT_FETCH_ALLOW_PRIVATE=true for an intranet)")
        return addresses[0]

    def _timeouts(self, deadline: float, url: str) -> dict:
        """httpx's per-request timeouts, never past the deadline."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise FetchError(f"{url}: too slow (over {self.config.deadline_s:g} s)")
        read = min(self.config.read_timeout_s, left)
        return {"connect": min(self.config.connect_timeout_s, left), "read": read, "write": read, "pool": read}

    def _retry_after(self, resp: httpx.Response, attempt: int, url: str, deadline: float) -> float:
        """Seconds to wait before retrying a 429/503: its Retry-After (seconds or a date), else 1, 2, 4 s."""
        header = resp.headers.get("retry-after", "").strip()
        wait = float(2**attempt)
        if header.isdigit():
            wait = float(header)
        elif header:
            when = email.utils.parsedate_to_datetime(header) if _is_date(header) else None
            wait = max(0.0, when.timestamp() - time.time()) if when else wait
        if wait > self.config.max_retry_after_s or time.monotonic() + wait > deadline:
            raise FetchError(f"{url}: HTTP {resp.status_code}, asks to retry after {wait:.0f} s")
        return wait

    def _host_lock(self, host: str) -> threading.Lock:
        """One request at a time per host."""
        with self._locks_guard:
            return self._host_locks.setdefault(host.lower(), threading.Lock())

    def _limit_text(self) -> str:
        """The size limit in words."""
        mb = self.config.max_bytes / 1_048_576
        return f"{mb:g} MB" if mb >= 1 else f"{self.config.max_bytes} bytes"


class _Watchdog:
    """Shuts the socket of the request in flight once one fetch's deadline has passed, mid-read if need be.

    httpx's timeouts bound each read; a server that sends a byte a second never trips them. The socket comes from
    httpcore's ``trace`` extension as each connection opens (kept-alive connections are off, so each request opens one).
    """

    def __init__(self, seconds: float) -> None:
        self.fired = False
        self._socket: socket.socket | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def trace(self, event: str, info: dict) -> None:
        """httpcore's trace callback: keep the socket of each new connection (shut at once if the deadline passed)."""
        if event != "connection.connect_tcp.complete":
            return
        stream = info.get("return_value")
        sock = stream.get_extra_info("socket") if stream is not None else None
        with self._lock:
            self._socket = sock
            if self.fired:
                self._shut()

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            self._shut()

    def _shut(self) -> None:
        if self._socket is not None:
            try:
                self._socket.shutdown(socket.SHUT_RDWR)
            except OSError:  # already closed
                pass

    def cancel(self) -> None:
        """The fetch ended: no more shutting."""
        self._timer.cancel()


def _decoder(encoding: str, url: str):
    """A zlib decompressor for gzip or deflate (None for identity); FetchError for an encoding we did not ask for."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return zlib.decompressobj()
    raise FetchError(f"{url}: content encoding {encoding[:40]}, not one newsbot reads")


def _is_date(text: str) -> bool:
    """Whether an HTTP date parses."""
    try:
        return email.utils.parsedate_to_datetime(text) is not None
    except (TypeError, ValueError, IndexError):
        return False


def _one_line(exc: BaseException) -> str:
    """The first line of an exception's message."""
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
