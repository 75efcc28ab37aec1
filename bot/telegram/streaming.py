"""One answer on screen: the queue notice, the streamed text (drafts in private chats, throttled edits in groups), the typing action and the final message."""

from __future__ import annotations

import asyncio
import datetime as dtm
import logging
import warnings
from typing import Awaitable, Callable, Sequence, TypeVar

from telegram import Bot, LinkPreviewOptions, ReplyParameters
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.warnings import PTBDeprecationWarning

from bot.telegram.formatting import preview

log = logging.getLogger(__name__)
T = TypeVar("T")
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
TYPING_EVERY_S = 4.5  # the typing action lasts 5 s
MAX_RETRY_AFTER_S = 120.0
ATTEMPTS = 4


def retry_seconds(exc: RetryAfter) -> float:
    """Seconds to wait from a 429, whether PTB gives an int or a timedelta."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


async def deliver(op: Callable[[], Awaitable[T]], attempts: int = ATTEMPTS) -> T:
    """Run a Bot API call, waiting out flood control (429) and retrying network errors with back-off."""
    for attempt in range(1, attempts + 1):
        try:
            return await op()
        except RetryAfter as exc:
            wait = retry_seconds(exc)
            if wait > MAX_RETRY_AFTER_S or attempt == attempts:
                raise
            log.info("flood control: retrying in %.0f s", wait)
            await asyncio.sleep(wait)
        except BadRequest:
            raise
        except (TimedOut, NetworkError) as exc:
            if attempt == attempts:
                raise
            log.info("network error (%s): retrying", type(exc).__name__)
            await asyncio.sleep(0.5 * 2 ** (attempt - 1))
    raise AssertionError("unreachable")


class Reply:
    """The bot's side of one question in one chat; every send goes through one flusher so updates never come faster than ``interval``."""

    def __init__(self, bot: Bot, chat_id: int, *, private: bool, interval: float, reply_to: int, draft_id: int) -> None:
        self.bot = bot
        self.chat_id = chat_id
        self.private = private
        self.interval = interval
        self.reply_to = reply_to
        self.draft_id = draft_id
        self.message_id: int | None = None  # the notice (private) or the streamed message (group)
        self.notice: str | None = None
        self.text: str | None = None
        self.edits = 0
        self._shown: dict[str, str] = {}
        self._dirty = asyncio.Event()
        self._closing = False
        self._flusher = asyncio.create_task(self._flush_loop())
        self._typing = asyncio.create_task(self._typing_loop())

    def queued(self, ahead: int) -> None:
        """Show the place in the queue."""
        self.notice = f"⏳ {ahead} question{'s' if ahead != 1 else ''} ahead of you…"
        self._dirty.set()

    def started(self) -> None:
        """Generation began: the queue notice, if any, says so."""
        if self.notice is not None:
            self.notice = "✍️ Your turn: writing the answer…"
            self._dirty.set()

    def show(self, text: str) -> None:
        """The answer so far (plain text)."""
        self.text = preview(text)
        self._dirty.set()

    async def _flush_loop(self) -> None:
        """Send the latest state, then wait ``interval``; a 429 is waited out and the latest state sent after it."""
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            if self._closing:
                await self._last_notice()
                return
            try:
                await self._flush()
            except RetryAfter as exc:
                self._dirty.set()
                await asyncio.sleep(retry_seconds(exc))
                continue
            except TelegramError as exc:  # a lost preview is not worth failing for; the final message retries
                log.info("preview not sent (%s)", type(exc).__name__)
            await asyncio.sleep(self.interval)

    async def _last_notice(self) -> None:
        """In a private chat the queue notice stays on screen: bring it up to date ('your turn') before the answer."""
        if self.private and self.notice is not None and self._shown.get("notice") != self.notice:
            try:
                await self._message(self.notice, "notice")
            except TelegramError as exc:
                log.info("notice not updated (%s)", type(exc).__name__)

    async def _flush(self) -> None:
        """One update on screen: the notice first, then the answer text."""
        if self.private:
            if self.notice is not None and self._shown.get("notice") != self.notice:
                await self._message(self.notice, "notice")
            elif self.text is not None and self._shown.get("draft") != self.text:
                await self.bot.send_message_draft(self.chat_id, self.draft_id, self.text)
                self._shown["draft"] = self.text
                self.edits += 1
            return
        current = self.text if self.text is not None else self.notice
        if current is not None and self._shown.get("notice") != current:
            await self._message(current, "notice")

    async def _message(self, text: str, key: str) -> None:
        """Send the bot's message, or edit it once sent."""
        if self.message_id is None:
            msg = await self.bot.send_message(
                self.chat_id, text, reply_parameters=ReplyParameters(self.reply_to, allow_sending_without_reply=True)
            )
            self.message_id = msg.message_id
        else:
            try:
                await self.bot.edit_message_text(text, self.chat_id, self.message_id)
            except BadRequest as exc:
                if "not modified" not in str(exc).lower():
                    raise
        self._shown[key] = text
        self.edits += 1

    async def _typing_loop(self) -> None:
        """The typing action, renewed until the answer is sent."""
        while True:
            try:
                await self.bot.send_chat_action(self.chat_id, ChatAction.TYPING)
            except (NetworkError, TimedOut, RetryAfter) as exc:
                log.debug("typing action not sent (%s)", type(exc).__name__)
            await asyncio.sleep(TYPING_EVERY_S)

    async def close(self) -> None:
        """Stop the typing action and the flusher, letting a send in progress finish and the throttle interval pass."""
        self._typing.cancel()
        self._closing = True
        self._dirty.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._flusher), timeout=max(self.interval, 1.0) + 5.0)
        except asyncio.TimeoutError:
            self._flusher.cancel()
        await asyncio.gather(self._typing, self._flusher, return_exceptions=True)

    async def finish(self, parts: Sequence[str]) -> None:
        """Send the final HTML message(s): in groups the streamed message becomes the first part; 429s and network errors are retried."""
        await self.close()
        parts = list(parts)
        if not self.private and self.message_id is not None and parts:
            first = parts.pop(0)
            try:
                await deliver(lambda: self.bot.edit_message_text(
                    first, self.chat_id, self.message_id, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW
                ))
            except BadRequest as exc:
                if "not modified" not in str(exc).lower():
                    parts.insert(0, first)  # the message is gone: send the answer anew
        for part in parts:
            await deliver(lambda part=part: self.bot.send_message(
                self.chat_id, part, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW,
                reply_parameters=ReplyParameters(self.reply_to, allow_sending_without_reply=True),
            ))

    async def fail(self, text: str) -> None:
        """End with a short plain sentence instead of an answer."""
        await self.close()
        if not self.private and self.message_id is not None:
            await deliver(lambda: self.bot.edit_message_text(text, self.chat_id, self.message_id))
        else:
            await deliver(lambda: self.bot.send_message(
                self.chat_id, text, reply_parameters=ReplyParameters(self.reply_to, allow_sending_without_reply=True)
            ))
