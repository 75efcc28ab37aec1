"""A fake Hugging Face Hub on loopback that serves files the way `huggingface_hub` expects.

`HEAD`/`GET /{owner}/{repo}/resolve/{revision}/{file}` answer like the Hub: for an LFS file a
302 to a "CDN" on another host name (`localhost`) carrying `X-Repo-Commit`, `X-Linked-Etag`
(the sha256) and `X-Linked-Size`; for a small git file a 200 with its git blob id as `ETag`.
The CDN honours `Range: bytes=N-` with a 206, so interrupted downloads can resume. Unknown
repositories and files are 404s with the Hub's `X-Error-Code`. Every request is recorded.
"""

from __future__ import annotations

import hashlib
import socket
import struct
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@dataclass
class HubFile:
    """A file the fake Hub serves: its bytes and what the Hub says about them."""

    content: bytes
    lfs: bool = True
    advertised_sha256: str | None = None  # None: the true sha256 of content

    @property
    def sha256(self) -> str:
        """The sha256 the Hub reports (X-Linked-Etag)."""
        return self.advertised_sha256 or hashlib.sha256(self.content).hexdigest()

    @property
    def git_sha1(self) -> str:
        """The git blob id the Hub reports as ETag for a non-LFS file."""
        return hashlib.sha1(b"blob %d\0" % len(self.content) + self.content).hexdigest()


@dataclass
class Request:
    """One request the fake Hub received."""

    method: str
    path: str
    range: str | None


@dataclass
class FakeHub:
    """A running fake Hub; use as a context manager, pass `endpoint` to the code under test."""

    files: dict[tuple[str, str], HubFile] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    drop_after: int | None = None  # the next full CDN GET sends this many bytes, then hangs up

    def add(self, repo_id: str, filename: str, content: bytes, **kwargs) -> HubFile:
        """Publish a file at repo_id/filename."""
        self.files[(repo_id, filename)] = hub_file = HubFile(content, **kwargs)
        return hub_file

    def __enter__(self) -> "FakeHub":
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def port(self) -> int:
        """The loopback port the fake Hub listens on."""
        return self._server.server_address[1]

    @property
    def endpoint(self) -> str:
        """The value for `endpoint=` / `HF_ENDPOINT`."""
        return f"http://127.0.0.1:{self.port}"

    def paths(self, method: str | None = None) -> list[str]:
        """The paths requested so far, optionally of one method."""
        return [r.path for r in self.requests if method in (None, r.method)]


def _handler_for(hub: FakeHub) -> type[BaseHTTPRequestHandler]:
    """A request handler class bound to one FakeHub."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # keep pytest output clean
            pass

        def do_HEAD(self) -> None:
            self._serve(body=False)

        def do_GET(self) -> None:
            self._serve(body=True)

        def _serve(self, body: bool) -> None:
            hub.requests.append(Request(self.command, self.path, self.headers.get("Range")))
            path = self.path.split("?", 1)[0]
            if path.startswith("/cdn/"):
                return self._serve_cdn(path[len("/cdn/"):], body)
            parts = path.lstrip("/").split("/", 4)
            if len(parts) < 5 or parts[2] != "resolve":
                return self._error(404, "RepoNotFound")
            repo_id, filename = f"{parts[0]}/{parts[1]}", parts[4]
            if not any(repo == repo_id for repo, _ in hub.files):
                return self._error(404, "RepoNotFound")
            hub_file = hub.files.get((repo_id, filename))
            if hub_file is None:
                return self._error(404, "EntryNotFound")
            if hub_file.lfs:
                self.send_response(302)
                self.send_header("Location", f"http://localhost:{hub.port}/cdn/{repo_id}/{filename}?sig=x")
                self.send_header("X-Repo-Commit", COMMIT)
                self.send_header("ETag", f'"{hub_file.git_sha1}"')
                self.send_header("X-Linked-Etag", f'"{hub_file.sha256}"')
                self.send_header("X-Linked-Size", str(len(hub_file.content)))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            self._send_content(hub_file, body, {"X-Repo-Commit": COMMIT, "ETag": f'"{hub_file.git_sha1}"'})

        def _serve_cdn(self, key: str, body: bool) -> None:
            repo_and_file = key.split("/", 2)
            hub_file = hub.files.get((f"{repo_and_file[0]}/{repo_and_file[1]}", repo_and_file[2]))
            if hub_file is None:
                return self._error(404, "EntryNotFound")
            self._send_content(hub_file, body, {"ETag": f'"{hub_file.sha256}"'})

        def _send_content(self, hub_file: HubFile, body: bool, headers: dict[str, str]) -> None:
            content, start = hub_file.content, 0
            wanted = self.headers.get("Range")
            if wanted and wanted.startswith("bytes=") and wanted.endswith("-"):
                start = int(wanted[len("bytes="):-1])
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(content) - 1}/{len(content)}")
            else:
                self.send_response(200)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", str(len(content) - start))
            self.end_headers()
            if not body:
                return
            if hub.drop_after is not None and start == 0:
                cut, hub.drop_after = hub.drop_after, None
                self.wfile.write(content[:cut])
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.wfile.write(content[start:])

        def _error(self, status: int, code: str) -> None:
            message = f"{code}: {self.path}".encode()
            self.send_response(status)
            self.send_header("X-Error-Code", code)
            self.send_header("X-Error-Message", code)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(message)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(message)

    return Handler


def closed_port_endpoint() -> str:
    """An endpoint on loopback where nothing listens: a Hub that is down."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def make_gguf(n_floats: int = 4096, *, version: int = 3) -> bytes:
    """A small but complete GGUF file: two metadata keys and one F32 tensor."""

    def string(s: bytes) -> bytes:
        return struct.pack("<Q", len(s)) + s

    kv = (string(b"general.architecture") + struct.pack("<I", 8) + string(b"llama")
          + string(b"general.alignment") + struct.pack("<I", 4) + struct.pack("<I", 32)
          + string(b"tokenizer.ggml.tokens") + struct.pack("<IIQ", 9, 8, 3)
          + string(b"a") + string(b"bc") + string(b"def"))
    tensor = string(b"weight") + struct.pack("<I", 1) + struct.pack("<Q", n_floats) + struct.pack("<IQ", 0, 0)
    header = b"GGUF" + struct.pack("<IQQ", version, 1, 3) + kv + tensor
    header += b"\0" * (-len(header) % 32)
    return header + struct.pack("<f", 1.0) * n_floats
