"""The one error handler: logs the failure (never the token, the bot or a URL) and tells the user in one short sentence."""

from __future__ import annotations

import logging
import re

from telegram import Update
from telegram.error import BadRequest, Conflict, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import ContextTypes

from retrieval.errors import GenerationError, InputError, NewsbotError, QueueFull

log = logging.getLogger(__name__)

# What a user must never read: a URL (the LLM or Chroma server), a host:port, a file path, a library's raw message.
INTERNAL = re.compile(
    r"[a-z][a-z0-9+.-]*://|\b(?:localhost|\d{1,3}(?:\.\d{1,3}){3})\b|:\d{2,5}\b|(?:^|[\s(\"'])/\w|\.sqlite3|\w+(?:Error|Exception)\b|\(",
    re.I,
)
GENERIC = "Sorry, something went wrong; please try again."
PLAIN = {  # one plain sentence per kind of failure; the details go to the log
    GenerationError: "I could not write an answer just now; please try again in a minute.",
    InputError: "Sorry, I could not use that.",
    NewsbotError: "The article index is not available right now; please try again later.",
}


def _sentence(text: str) -> str:
    """``text`` with a capital and a full stop."""
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", "?", "!")) else ".")


def user_text(error: BaseException) -> str:
    """What the user reads for an error: its own words when written for people and free of internal details, else one plain sentence."""
    if isinstance(error, QueueFull):
        return "I'm busy answering other questions; please try again in a minute."
    if isinstance(error, NewsbotError):
        text = str(error).strip()
        plain = next(v for k, v in PLAIN.items() if isinstance(error, k))
        # Input and generation messages are written for people (length limit, time limit, restarting…); the other
        # kinds (index, lock, model, settings) are for the admin, as are messages carrying a URL, path or raw error.
        if isinstance(error, (InputError, GenerationError)) and text and not INTERNAL.search(text):
            return f"Sorry: {text}." if isinstance(error, InputError) else _sentence(text)
        return plain
    if isinstance(error, BadRequest):  # a NetworkError subclass in PTB, but Telegram answered: it refused the message
        return "Telegram refused my reply; please ask again, perhaps more briefly."
    if isinstance(error, (NetworkError, RetryAfter)):
        return "Telegram is not answering well right now; please try again in a minute."
    return GENERIC


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the error by type and message only (PTB's messages never carry the token), and tell the user when there is one."""
    error = context.error
    if isinstance(error, Conflict) and update is None:  # polling: another instance uses the same token
        context.bot_data["refused"] = "another instance is already polling with this token (409 Conflict): stop it first"
        context.application.stop_running()
        return
    if isinstance(error, (NewsbotError, TelegramError)):
        log.warning("update failed: %s: %s", type(error).__name__, error)
    else:
        log.error("update failed: %s", type(error).__name__, exc_info=error)
    if not isinstance(update, Update) or update.effective_message is None or isinstance(error, Forbidden):
        return
    try:
        await update.effective_message.reply_text(user_text(error))
    except TelegramError as exc:
        log.warning("could not tell the user about the error: %s", type(exc).__name__)
