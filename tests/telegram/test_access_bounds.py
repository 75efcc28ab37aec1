"""Access decisions for odd senders, and memory that stays bounded however many strangers write."""

from __future__ import annotations

from telegram.constants import ChatID

from bot.telegram.access import Access, BoundedSet, Verdict
from bot.telegram.limits import WINDOW_S, UserLimits
from tests.fake_telegram import BOT, document, message
from tests.telegram.test_parts import verdict

GROUP = -5  # allowed in test_parts.verdict
AT = f"@{BOT['username']} une question"


def _anonymous_admin(chat_id: int, text: str, **kw) -> dict:
    """A message an anonymous admin posts: from GroupAnonymousBot, on behalf of the group itself."""
    update = message(chat_id, ChatID.ANONYMOUS_ADMIN, text, **kw)
    msg = update["message"]
    msg["from"] = {"id": int(ChatID.ANONYMOUS_ADMIN), "is_bot": True, "first_name": "Group", "username": "GroupAnonymousBot"}
    msg["sender_chat"] = {"id": chat_id, "type": "supergroup", "title": "News group"}
    return update


def _automatic_forward(chat_id: int, text: str) -> dict:
    """A linked channel's post, forwarded by Telegram into its discussion group."""
    update = message(chat_id, ChatID.SERVICE_CHAT, text)
    msg = update["message"]
    msg["from"] = {"id": int(ChatID.SERVICE_CHAT), "is_bot": False, "first_name": "Telegram"}
    msg["sender_chat"] = {"id": -100999, "type": "channel", "title": "News channel"}
    msg["is_automatic_forward"] = True
    return update


def test_anonymous_admins_are_answered_in_allowed_groups_only():
    assert verdict(_anonymous_admin(GROUP, AT)) is Verdict.ALLOW
    assert verdict(_anonymous_admin(-77, AT)) is Verdict.REFUSE_CHAT
    assert verdict(_anonymous_admin(GROUP, "no mention")) is Verdict.IGNORE
    # Uploads need an admin id, which an anonymous admin does not show.
    assert verdict(_anonymous_admin(GROUP, None, document=document("F", "a.txt", 3), caption=AT)) is Verdict.REFUSE_UPLOAD


def test_a_bot_posing_as_anonymous_admin_of_another_chat_is_ignored():
    update = _anonymous_admin(GROUP, AT)
    update["message"]["sender_chat"]["id"] = -4242  # on behalf of some other chat
    assert verdict(update) is Verdict.IGNORE


def test_automatic_forwards_from_a_linked_channel_are_ignored_even_with_a_mention():
    assert verdict(_automatic_forward(GROUP, AT)) is Verdict.IGNORE
    assert verdict(message(GROUP, 2, AT)) is Verdict.ALLOW  # a member's own message in the same group still is


def test_the_set_of_strangers_told_their_id_is_bounded():
    told = BoundedSet(maxlen=100)
    for uid in range(10_000):
        told.add(uid)
    assert len(told) == 100 and 9_999 in told and 0 not in told
    assert isinstance(Access(set(), set(), set()).told, BoundedSet)


def test_the_rate_limit_map_forgets_users_who_stopped_asking():
    now = [0.0]
    limits = UserLimits(per_minute=3, clock=lambda: now[0])
    for uid in range(5_000):
        assert limits.begin(uid) is None
        limits.end(uid)
    assert limits.tracked() == 5_000
    now[0] = WINDOW_S + 1
    assert limits.begin(1) is None  # the first call after a window sweeps the old entries
    assert limits.tracked() == 1
    limits.end(1)
    now[0] += 1
    assert "3 questions" not in (limits.begin(1) or "")  # the remaining user's count is intact (2 of 3 used)
