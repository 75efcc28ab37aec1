"""What the bot tests share: the users and chats of the fake Telegram world, the bot's settings, its final messages."""

from bot.settings import Settings
from tests.fake_telegram import TOKEN

ALICE, BOB, MALLORY, ADMIN = 11, 22, 666, 99
GROUP, OTHER_GROUP = -1001, -1002
QUESTION = "Combien Meta prévoit-il d'investir dans Scale AI ?"


def make_settings(tmp_path, tg, **kw) -> Settings:
    base = dict(
        data_dir=tmp_path / "data", model="bundled", telegram_token=TOKEN, telegram_base_url=tg.base_url,
        allowed_users=[ALICE, BOB] + list(range(1000, 1030)), allowed_chats=[GROUP], admin_users=[ADMIN],
        edit_interval_s=0.05, group_edit_interval_s=0.2, per_user_per_minute=5, _env_file=None,
    )
    return Settings(**{**base, **kw})


def finals(tg, chat_id):
    """The HTML messages the bot sent or edited into place in a chat."""
    return [c.params for c in tg.calls if c.method in ("sendMessage", "editMessageText")
            and c.params.get("chat_id") == chat_id and c.params.get("parse_mode") == "HTML" and c.status == 200]
