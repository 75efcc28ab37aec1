"""Questions: admitted by the per-user limits, answered through the core loop, streamed, then sent as HTML and remembered."""

from __future__ import annotations

import asyncio
import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from bot.core import language
from bot.core.events import Done, Queued, Started, Token
from bot.telegram.access import strip_mention
from bot.telegram.formatting import answer_html
from bot.telegram.services import Flight, Services
from bot.telegram.streaming import Reply

log = logging.getLogger(__name__)


async def on_question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a text message; failures go to the error handler, which tells the user."""
    svc: Services = context.bot_data["services"]
    msg, user = update.message, update.effective_user
    question = strip_mention(msg.text or "", context.bot.username)
    if not question:
        await msg.reply_text("Ask me a question about the articles.")
        return
    refusal = svc.limits.begin(user.id)
    if refusal:
        await msg.reply_text(refusal)
        return
    flight = Flight(msg.chat.id)
    svc.flights.add(flight)
    private = msg.chat.type == ChatType.PRIVATE
    interval = svc.settings.edit_interval_s if private else svc.settings.group_edit_interval_s
    reply = Reply(context.bot, msg.chat.id, private=private, interval=interval, reply_to=msg.message_id, draft_id=msg.message_id)
    try:
        # The language the scheduled digest is written in; inside the try, so a database error still releases the
        # limit. Like every conversation read and write, off the event loop (with PostgreSQL it is a round trip).
        await asyncio.to_thread(svc.history.set_language, msg.chat.id, language.detect(question))
        done = await _answer(svc, question, flight, reply)
        if done.cancelled and not flight.started:  # /cancel took it out of the queue before it reached the model
            await reply.fail("Cancelled.")
            return
        note = ""
        if done.cancelled:
            note = "Stopped: the bot is restarting." if svc.stopping else "Stopped by /cancel."
        if not done.cancelled:
            # Before the limit is released: a follow-up sees it.
            await asyncio.to_thread(svc.history.add, msg.chat.id, done.question, done.said, done.sources)
        # Released before the final message goes out: a follow-up sent the moment the answer shows is not refused as
        # "in progress" while this coroutine is still on its way back from the send.
        svc.limits.end(user.id)
        await reply.finish(answer_html(done, note))
    finally:
        await reply.close()
        svc.flights.discard(flight)
        svc.limits.end(user.id)


async def _answer(svc: Services, question: str, flight: Flight, reply: Reply) -> Done:
    """Run the core loop, showing its events as they come."""
    history = await asyncio.to_thread(svc.history.recent, flight.chat_id)  # a SQLite read: off the event loop
    parts: list[str] = []
    async for event in svc.answerer.answer(question, history, flight.cancel):
        if isinstance(event, Queued):
            reply.queued(event.ahead)
        elif isinstance(event, Started):
            flight.started = True
            reply.started()
        elif isinstance(event, Token):
            parts.append(event.text)
            reply.show("".join(parts))
        elif isinstance(event, Done):
            return event
    raise AssertionError("the answer loop ended without Done")
