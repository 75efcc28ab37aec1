"""A fake Telegram Bot API server on loopback (aiohttp, in its own thread), so python-telegram-bot's real HTTP stack runs in tests.

It records every call, serves getUpdates from a queue that tests push updates into, answers the methods the bot uses,
serves file downloads, and can inject 429 (with retry_after), 500, 409, 401 and slow responses.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from dataclasses import dataclass, field

import pytest
from aiohttp import web

TOKEN = "123456:TEST-token_abcdefghijklmnopqrstuvwxyz"
BOT = {"id": 123456, "is_bot": True, "first_name": "Newsbot", "username": "newsbot_test_bot",
       "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}
TEXT_KEYS = {"text", "caption", "parse_mode", "action", "file_id", "secret_token", "url", "description"}


@dataclass
class Call:
    """One request the bot made."""

    method: str
    params: dict
    at: float
    status: int = 200


@dataclass
class Fault:
    """A planned failure for the next matching calls."""

    method: str
    status: int
    retry_after: int | None = None
    times: int = 1
    delay_s: float = 0.0
    when: object = None  # optional predicate on the params


@dataclass
class FakeTelegram:
    """The server; ``base_url`` goes to NEWSBOT_TELEGRAM_BASE_URL."""

    token: str = TOKEN
    calls: list[Call] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    poll_timeout_cap_s: float = 0.5

    def __post_init__(self) -> None:
        self._ids = itertools.count(1000)
        self._update_ids = itertools.count(1)
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="fake-telegram", daemon=True)
        self.port = 0

    # --- life cycle -------------------------------------------------------------------------------------------
    def start(self) -> "FakeTelegram":
        """Start serving on a free loopback port."""
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        """Stop the server thread."""
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    @property
    def base_url(self) -> str:
        """The Bot API base URL (PTB appends the token)."""
        return f"http://127.0.0.1:{self.port}/bot"

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._updates: asyncio.Queue = asyncio.Queue()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        self._runner = web.AppRunner(app, access_log=None)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    # --- what tests do ----------------------------------------------------------------------------------------
    def push(self, update: dict) -> dict:
        """Queue an update (an ``update_id`` is added) for the next getUpdates."""
        update = {"update_id": next(self._update_ids), **update}
        self._loop.call_soon_threadsafe(self._updates.put_nowait, update)
        return update

    def fail(self, method: str, status: int, retry_after: int | None = None, times: int = 1, delay_s: float = 0.0, when=None) -> None:
        """Make the next ``times`` calls of ``method`` fail with ``status`` (429 with retry_after, 500, 409, 401…)."""
        with self._lock:
            self.faults.append(Fault(method, status, retry_after, times, delay_s, when))

    def slow(self, method: str, delay_s: float, times: int = 1) -> None:
        """Delay the next ``times`` calls of ``method`` (they still succeed)."""
        self.fail(method, 200, times=times, delay_s=delay_s)

    def of(self, method: str, chat_id: int | None = None, ok: bool = True) -> list[Call]:
        """Recorded calls of a method (to a chat), successful ones only unless ``ok`` is False."""
        with self._lock:
            return [c for c in self.calls if c.method == method and (chat_id is None or c.params.get("chat_id") == chat_id)
                    and (not ok or c.status == 200)]

    def texts(self, chat_id: int, methods=("sendMessage", "editMessageText")) -> list[str]:
        """Texts the bot sent or edited in a chat, in order."""
        with self._lock:
            return [c.params.get("text", "") for c in self.calls
                    if c.method in methods and c.params.get("chat_id") == chat_id and c.status == 200]

    # --- the API ----------------------------------------------------------------------------------------------
    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._error(401, "Unauthorized")
        method = request.match_info["method"]
        params = _decode(dict(await request.post()) if request.can_read_body else {})
        fault = self._take_fault(method, params)
        if fault and fault.delay_s:
            await asyncio.sleep(fault.delay_s)
        status = fault.status if fault else 200
        with self._lock:
            self.calls.append(Call(method, params, time.monotonic(), status))
        if status == 429:
            return self._error(429, f"Too Many Requests: retry after {fault.retry_after}", {"retry_after": fault.retry_after})
        if status != 200:
            return self._error(status, {409: "Conflict: terminated by other getUpdates request", 401: "Unauthorized"}.get(status, "Internal Server Error"))
        handler = getattr(self, "_m_" + method, None)
        result = await handler(params) if handler else True
        return web.json_response({"ok": True, "result": result})

    def _take_fault(self, method: str, params: dict) -> Fault | None:
        with self._lock:
            for f in self.faults:
                if f.method == method and f.times > 0 and (f.when is None or f.when(params)):
                    f.times -= 1
                    return f
        return None

    @staticmethod
    def _error(status: int, description: str, parameters: dict | None = None) -> web.Response:
        body = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters
        return web.json_response(body, status=status)

    async def _m_getMe(self, p: dict) -> dict:
        return BOT

    async def _m_getUpdates(self, p: dict) -> list:
        timeout = min(float(p.get("timeout", 0) or 0), self.poll_timeout_cap_s)
        try:
            first = await asyncio.wait_for(self._updates.get(), timeout) if timeout else self._updates.get_nowait()
        except (asyncio.TimeoutError, asyncio.QueueEmpty):
            return []
        batch = [first]
        while not self._updates.empty() and len(batch) < int(p.get("limit", 100) or 100):
            batch.append(self._updates.get_nowait())
        return batch

    def _message(self, p: dict, text: str | None = None) -> dict:
        chat_id = p["chat_id"]
        msg = {"message_id": p.get("message_id") or next(self._ids), "date": int(time.time()),
               "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"}, "from": BOT}
        if text is not None:
            msg["text"] = text
        return msg

    async def _m_sendMessage(self, p: dict) -> dict:
        return self._message(p, p.get("text", ""))

    async def _m_editMessageText(self, p: dict) -> dict:
        return self._message(p, p.get("text", ""))

    async def _m_getFile(self, p: dict) -> dict:
        data = self.files.get(p["file_id"], b"")
        return {"file_id": p["file_id"], "file_unique_id": "u" + p["file_id"], "file_size": len(data), "file_path": f"documents/{p['file_id']}"}

    async def _file(self, request: web.Request) -> web.Response:
        file_id = request.match_info["path"].rsplit("/", 1)[-1]
        with self._lock:
            self.calls.append(Call("download", {"file_id": file_id}, time.monotonic()))
        if request.match_info["token"] != self.token or file_id not in self.files:
            return web.Response(status=404)
        return web.Response(body=self.files[file_id])


def _decode(form: dict) -> dict:
    """PTB sends form fields: strings as they are, everything else as JSON."""
    out = {}
    for k, v in form.items():
        if isinstance(v, str) and k not in TEXT_KEYS:
            try:
                v = json.loads(v)
            except ValueError:
                pass
        out[k] = v
    return out


# --- updates, as Telegram sends them ------------------------------------------------------------------------------
_msg_ids = itertools.count(1)


def user(uid: int, name: str = "Ann") -> dict:
    """A Telegram user."""
    return {"id": uid, "is_bot": False, "first_name": name}


def message(chat_id: int, uid: int, text: str | None = None, *, reply_to: dict | None = None, document: dict | None = None,
            caption: str | None = None) -> dict:
    """A message update from a user in a private chat (chat_id > 0) or a supergroup (chat_id < 0)."""
    chat = {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"}
    if chat_id < 0:
        chat["title"] = "News group"
    msg = {"message_id": next(_msg_ids), "date": int(time.time()), "chat": chat, "from": user(uid)}
    if text is not None:
        msg["text"] = text
        entities = []
        if text.startswith("/"):
            entities.append({"type": "bot_command", "offset": 0, "length": len(text.split()[0])})
        at = text.find("@" + BOT["username"])
        if at >= 0 and not text.startswith("/"):
            entities.append({"type": "mention", "offset": at, "length": len(BOT["username"]) + 1})
        if entities:
            msg["entities"] = entities
    if caption is not None:
        msg["caption"] = caption
    if document is not None:
        msg["document"] = document
    if reply_to is not None:
        msg["reply_to_message"] = reply_to
    return {"message": msg}


def document(file_id: str, name: str, size: int) -> dict:
    """A document attached to a message."""
    return {"file_id": file_id, "file_unique_id": "u" + file_id, "file_name": name, "file_size": size}


# --- running the real bot against the fake --------------------------------------------------------------------------
async def until(predicate, timeout: float = 20.0, what: str = "condition") -> None:
    """Wait until ``predicate()`` is true; the timeout only bounds a failing test."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


class RunningBot:
    """The real Application (built by bot.telegram.app) polling the fake server in this event loop."""

    def __init__(self, settings, answerer, index) -> None:
        from bot.telegram.app import build_application, build_services

        self.services = build_services(settings, answerer, index.catalog, index.indexer)
        self.app = build_application(settings, self.services)

    async def __aenter__(self) -> "RunningBot":
        await self.app.initialize()
        await self.app.post_init(self.app)
        await self.app.updater.start_polling(poll_interval=0.0)
        await self.app.start()
        return self

    async def __aexit__(self, *exc) -> None:
        if self.app.updater.running:
            await self.app.updater.stop()
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()
        await self.app.post_shutdown(self.app)
