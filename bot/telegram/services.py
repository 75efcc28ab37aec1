"""What every handler needs, opened once and kept in ``application.bot_data['services']``."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from bot.core.answer import Answerer
from bot.core.events import Cancel
from bot.settings import Settings
from bot.telegram.access import Access
from bot.telegram.history import ConversationStore
from bot.telegram.limits import UserLimits
from retrieval.stores.catalog import Catalog
from retrieval.ingest import Indexer


@dataclass(eq=False)
class Flight:
    """One question being answered: its cancel switch, and whether generation has begun."""

    chat_id: int
    cancel: Cancel = field(default_factory=Cancel)
    started: bool = False


@dataclass
class Services:
    """The collaborators of the Telegram handlers."""

    settings: Settings
    answerer: Answerer
    catalog: Catalog
    indexer: Indexer
    history: ConversationStore
    access: Access
    limits: UserLimits
    flights: set[Flight] = field(default_factory=set)
    stopping: bool = False
    ingesting: asyncio.Lock = field(default_factory=asyncio.Lock)  # one upload ingested at a time

    def in_chat(self, chat_id: int) -> list[Flight]:
        """The questions in progress in a chat."""
        return [f for f in self.flights if f.chat_id == chat_id]

    def cancel(self, flight: Flight) -> None:
        """Stop an answer: at the next token if generating, at once if still queued."""
        flight.cancel.set()

    def shut_down(self) -> None:
        """Stop generation at the next token and turn away waiting questions ('the bot is restarting')."""
        self.stopping = True
        self.answerer.close(timeout=0)
