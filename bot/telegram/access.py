"""The one access check, run before every handler: who may ask, where, and who may add articles."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from enum import Enum

from telegram import Message, Update
from telegram.constants import ChatType, MessageEntityType
from telegram.ext import ApplicationHandlerStop, ContextTypes

log = logging.getLogger(__name__)


class Verdict(Enum):
    """What the gate decided for one update."""

    ALLOW = "allow"
    IGNORE = "ignore"  # not for us (edited message, channel post, group chatter): silently dropped
    REFUSE_USER = "refuse_user"
    REFUSE_CHAT = "refuse_chat"
    REFUSE_UPLOAD = "refuse_upload"


@dataclass
class Access:
    """Access rules from the allowed and admin id lists; denied by default."""

    allowed_users: set[int]
    allowed_chats: set[int]
    admin_users: set[int]
    told: set[int] = field(default_factory=set)  # users and chats already told they are not allowed

    def decide(self, update: Update, bot_id: int, bot_username: str) -> Verdict:
        """The verdict for an update; only new messages from people are ever handled."""
        msg, user = update.message, update.effective_user
        if msg is None or user is None or user.is_bot:
            return Verdict.IGNORE
        if msg.chat.type == ChatType.PRIVATE:
            if user.id not in self.allowed_users | self.admin_users:
                return Verdict.REFUSE_USER
        elif msg.chat.type in (ChatType.GROUP, ChatType.SUPERGROUP):
            if not addressed(msg, bot_id, bot_username):
                return Verdict.IGNORE
            if msg.chat.id not in self.allowed_chats:
                return Verdict.REFUSE_CHAT
        else:
            return Verdict.IGNORE
        if msg.document is not None and user.id not in self.admin_users:
            return Verdict.REFUSE_UPLOAD
        return Verdict.ALLOW


def addressed(msg: Message, bot_id: int, bot_username: str) -> bool:
    """In a group: a command, a mention of the bot, or a reply to one of its messages."""
    text = msg.text or msg.caption or ""
    if text.startswith("/"):
        return True  # CommandHandler itself ignores /cmd@otherbot
    reply = msg.reply_to_message
    if reply is not None and reply.from_user is not None and reply.from_user.id == bot_id:
        return True
    mention = "@" + bot_username.lower()
    entities = msg.parse_entities([MessageEntityType.MENTION]) or msg.parse_caption_entities([MessageEntityType.MENTION])
    return any(v.lower() == mention for v in entities.values()) or mention in text.lower().split()


def strip_mention(text: str, bot_username: str) -> str:
    """The question without the bot's @name."""
    mention = "@" + bot_username.lower()
    return " ".join(w for w in text.split() if w.lower().rstrip(",:") != mention).strip()


async def gate(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Group -1 handler: stop every update that is not allowed, telling a refused person once and never calling the model."""
    access: Access = context.bot_data["services"].access
    if not isinstance(update, Update):
        raise ApplicationHandlerStop
    verdict = access.decide(update, context.bot.id, context.bot.username)
    if verdict is Verdict.ALLOW:
        return
    msg, user = update.message, update.effective_user
    if verdict is Verdict.REFUSE_USER and user.id not in access.told:
        access.told.add(user.id)
        log.info("refused user %s", user.id)
        await msg.reply_text(f"Sorry, this bot is private. Your Telegram id is {user.id}: ask the owner to add it.")
    elif verdict is Verdict.REFUSE_CHAT and msg.chat.id not in access.told:
        access.told.add(msg.chat.id)
        log.info("refused chat %s", msg.chat.id)
        await msg.reply_text(f"Sorry, I only answer in allowed groups. This group's id is {msg.chat.id}: ask the owner to add it.")
    elif verdict is Verdict.REFUSE_UPLOAD:
        await msg.reply_text("Only the bot's admins can add articles; your file was not downloaded.")
    raise ApplicationHandlerStop
