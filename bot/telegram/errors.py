"""The one error handler: logs the failure (never the token, the bot or a URL) and tells the user in one short sentence."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Conflict, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import ContextTypes

from bot.hints import explain
from retrieval.errors import InputError, NewsbotError, QueueFull

log = logging.getLogger(__name__)


def user_text(error: BaseException) -> str:
    """What the user reads for an error."""
    if isinstance(error, QueueFull):
        return "I'm busy answering other questions; please try again in a minute."
    if isinstance(error, InputError):
        return f"Sorry: {error}."
    if isinstance(error, NewsbotError):  # generation errors are written for people (time limit, restarting…)
        text = explain(error)
        return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")
    if isinstance(error, (NetworkError, RetryAfter)):
        return "Telegram is not answering well right now; please try again in a minute."
    return "Sorry, something went wrong; please try again."


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
