"""A news site on loopback for the tests: article pages, RSS/Atom feeds and every misbehaviour a fetcher must survive.

Pages live in ``site.pages`` (path -> (content type, body)) so a test can edit an item; ``site.hits`` counts requests
per path and ``site.seen`` keeps each request's headers. Feeds answer 304 to a matching If-None-Match.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "news"
HTML = "text/html; charset=utf-8"
RSS = "application/rss+xml"
ATOM = "application/atom+xml"


def rss(title: str, items: list[dict], lang: str = "fr") -> bytes:
    """An RSS 2.0 feed; an item with ``content`` carries it as content:encoded (full text)."""
    body = "".join(
        f"<item><title>{i['title']}</title><link>{i['link']}</link><guid isPermaLink=\"false\">{i.get('guid', i['link'])}</guid>"
        f"<pubDate>{i.get('date', 'Tue, 10 Jun 2025 08:00:00 +0200')}</pubDate><description>{i.get('summary', '')}</description>"
        + (f"<content:encoded><![CDATA[{i['content']}]]></content:encoded>" if i.get("content") else "")
        + "</item>"
        for i in items
    )
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
            f"<channel><title>{title}</title><link>http://example.org/</link><language>{lang}</language>{body}</channel></rss>").encode()


def atom(title: str, entries: list[dict]) -> bytes:
    """An Atom feed; an entry with ``content`` carries it in full."""
    body = "".join(
        f"<entry><title>{e['title']}</title><link href=\"{e['link']}\"/><id>{e.get('guid', e['link'])}</id>"
        f"<updated>{e.get('date', '2025-05-02T14:15:00Z')}</updated><summary>{e.get('summary', '')}</summary>"
        + (f"<content type=\"html\"><![CDATA[{e['content']}]]></content>" if e.get("content") else "")
        + "</entry>"
        for e in entries
    )
    return (f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">'
            f"<title>{title}</title><id>urn:test:{title}</id><updated>2025-05-02T14:15:00Z</updated>{body}</feed>").encode()


class NewsSite:
    """The server: start() on a free loopback port, stop() at the end; ``url`` is its base address."""

    def __init__(self) -> None:
        self.pages: dict[str, tuple[str, bytes]] = {}
        self.hits: dict[str, int] = {}
        self.seen: list[dict] = []
        self.active = 0
        self.max_active = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._fill()

    def _fill(self) -> None:
        """The standard pages and feeds."""
        for name, path in [("greve-fr.html", "/articles/greve-sncf"), ("budget-en.html", "/news/council-budget")]:
            self.pages[path] = (HTML, (FIXTURES / name).read_bytes().replace(b"{base}", self.url.encode()))
        self.pages["/vendanges"] = ("text/html", (FIXTURES / "vendanges-latin1.html").read_bytes())  # charset only in <meta>
        self.pages["/no-article"] = (HTML, b"<html><head><title>Accueil</title></head><body><nav><a href='/'>Accueil</a></nav></body></html>")
        self.pages["/image.png"] = ("image/png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
        self.pages["/feeds/html"] = (HTML, b"<html><body><h1>Not a feed</h1><p>Just a page.</p></body></html>")
        self.pages["/feeds/broken.xml"] = (RSS, b"<?xml version='1.0'?><rss><channel><title>Broken<item><title>x</title></chan")

    def start(self) -> "NewsSite":
        """Serve in a thread."""
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving (trickles end too)."""
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()

    def _enter(self, path: str, headers: dict) -> None:
        with self._lock:
            self.hits[path] = self.hits.get(path, 0) + 1
            self.seen.append({"path": path, **headers})
            self.active += 1
            self.max_active = max(self.max_active, self.active)

    def _leave(self) -> None:
        with self._lock:
            self.active -= 1


def _handler(site: NewsSite):
    """The request handler class bound to ``site``."""

    class Handler(BaseHTTPRequestHandler):
        """Routes GET requests to pages and misbehaviours."""

        protocol_version = "HTTP/1.0"

        def log_message(self, *args) -> None:  # keep test output clean
            pass

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            site._enter(path, {k.lower(): v for k, v in self.headers.items()})
            try:
                self._route(path)
            except (BrokenPipeError, ConnectionResetError):
                pass
            finally:
                site._leave()

        def _send(self, status: int, ctype: str, body: bytes, **headers: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in headers.items():
                self.send_header(k.replace("_", "-"), v)
            self.end_headers()
            self.wfile.write(body)

        def _trickle(self, byte: bytes, count: int, every_s: float) -> None:
            """Write one byte every ``every_s`` seconds, ``count`` times, until the site stops."""
            for _ in range(count):
                if site._stop.wait(every_s):
                    return
                self.wfile.write(byte)
                self.wfile.flush()

        def _route(self, path: str) -> None:
            if path in site.pages:
                ctype, body = site.pages[path]
                etag = '"' + hashlib.md5(body).hexdigest() + '"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                return self._send(200, ctype, body, ETag=etag)
            if path.startswith("/redirect/"):
                n = int(path.rsplit("/", 1)[1])
                self.send_response(302)
                self.send_header("Location", f"/redirect/{n - 1}" if n > 0 else "/articles/greve-sncf")
                self.end_headers()
                return
            if path.startswith("/status/"):
                return self._send(int(path.rsplit("/", 1)[1]), "text/plain", b"no")
            if path == "/busy":
                if site.hits[path] % 2 == 1:
                    return self._send(429, "text/plain", b"slow down", Retry_After="1")
                return self._route("/articles/greve-sncf")
            if path == "/busy-long":
                return self._send(503, "text/plain", b"maintenance", Retry_After="3600")
            if path == "/slow":
                site._stop.wait(5)
                return self._send(200, HTML, b"<html>late</html>")
            if path == "/slowish":
                time.sleep(0.3)
                return self._route("/articles/greve-sncf")
            if path == "/trickle-headers":  # headers a byte at a time, each well inside a read timeout
                self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Padding: ")
                return self._trickle(b"a", 600, 0.2)
            if path == "/trickle":
                self.send_response(200)
                self.send_header("Content-Type", HTML)
                self.end_headers()
                return self._trickle(b"<", 120, 1.0)
            if path == "/big":  # 30 MB, streamed without a length
                self.send_response(200)
                self.send_header("Content-Type", HTML)
                self.end_headers()
                block = b"<p>" + b"x" * 65530 + b"</p>"
                for _ in range(30 * 16):
                    self.wfile.write(block)
                return
            if path == "/bomb":
                return self._send(200, HTML, _bomb(), Content_Encoding="gzip")
            return self._send(404, "text/plain", b"not found")

    return Handler


_BOMB: bytes | None = None


def _bomb() -> bytes:
    """64 MB of zeros, gzip-compressed to about 64 KB."""
    global _BOMB
    if _BOMB is None:
        _BOMB = gzip.compress(b"\x00" * (64 * 1024 * 1024), compresslevel=9)
    return _BOMB


def article_html(title: str, paragraphs: list[str]) -> str:
    """An article body for a feed's full content."""
    return f"<h1>{title}</h1>" + "".join(f"<p>{p}</p>" for p in paragraphs)


FR_ITEMS = [
    {"title": "Inondations dans le Gard", "link": "http://fr.example/inondations", "guid": "fr-1",
     "content": article_html("Inondations dans le Gard", [
         "De violents orages ont provoqué des inondations dans le Gard dans la nuit de lundi à mardi, coupant plusieurs routes départementales.",
         "Les pompiers ont mené une centaine d'interventions et évacué une cinquantaine d'habitants à Alès, où le Gardon est sorti de son lit.",
         "Météo-France maintient la vigilance orange pour la journée de mercredi sur le département."])},
    {"title": "Le prix du pain augmente", "link": "http://fr.example/pain", "guid": "fr-2",
     "content": article_html("Le prix du pain augmente", [
         "Les boulangers annoncent une hausse de dix centimes sur la baguette à partir du mois prochain, en raison du coût de l'énergie.",
         "La confédération de la boulangerie estime que les fours électriques coûtent désormais deux fois plus cher à faire fonctionner.",
         "Les consommateurs devraient voir les nouveaux prix affichés dès le premier septembre dans la plupart des boutiques."])},
]
