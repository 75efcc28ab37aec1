"""The one access check, run before every handler: who may ask, where, and who may add articles."""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from enum import Enum

from telegram import Message, Update
from telegram.constants import ChatID, ChatType, MessageEntityType
from telegram.ext import ApplicationHandlerStop, ContextTypes

log = logging.getLogger(__name__)


class Verdict(Enum):
    """What the gate decided for one update."""

    ALLOW = "allow"
    IGNORE = "ignore"  # not for us (edited message, channel post, group chatter): silently dropped
    REFUSE_USER = "refuse_user"
    REFUSE_CHAT = "refuse_chat"
    REFUSE_UPLOAD = "refuse_upload"


TOLD_MAX = 10_000  # strangers remembered as told their id; beyond it the oldest may be told again


class BoundedSet:
    """A set that forgets its oldest members beyond ``maxlen``: memory stays bounded whoever writes to the bot."""

    def __init__(self, maxlen: int = TOLD_MAX) -> None:
        self.maxlen = maxlen
        self._items: OrderedDict[int, None] = OrderedDict()

    def __contains__(self, item: int) -> bool:
        return item in self._items

    def __len__(self) -> int:
        return len(self._items)

    def add(self, item: int) -> None:
        """Remember ``item`` (as the newest), forgetting the oldest when full."""
        self._items[item] = None
        self._items.move_to_end(item)
        while len(self._items) > self.maxlen:
            self._items.popitem(last=False)


@dataclass
class Access:
    """Access rules from the allowed and admin id lists; denied by default.

    Two senders are decided on purpose (docs/telegram.md):

    - an anonymous group admin (the message comes from GroupAnonymousBot on behalf of the group itself) is
      answered in an allowed group like any member: the group is what is allowed, and its admins are in it;
      uploads stay refused, since no admin id can be checked;
    - an automatic forward of a linked channel's post into its discussion group is ignored even when it
      mentions the bot: it is the channel publishing, not a person asking, and whoever can post in the
      channel would otherwise make the bot answer in the group.
    """

    allowed_users: set[int]
    allowed_chats: set[int]
    admin_users: set[int]
    told: BoundedSet = field(default_factory=BoundedSet)  # users and chats already told they are not allowed

    def decide(self, update: Update, bot_id: int, bot_username: str) -> Verdict:
        """The verdict for an update; only new messages from people are ever handled."""
        msg, user = update.message, update.effective_user
        if msg is None or user is None or msg.is_automatic_forward:
            return Verdict.IGNORE
        anonymous_admin = (
            user.id == ChatID.ANONYMOUS_ADMIN and msg.sender_chat is not None and msg.sender_chat.id == msg.chat.id
        )
        if user.is_bot and not anonymous_admin:
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
