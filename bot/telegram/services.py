"""What every handler needs, opened once and kept in ``application.bot_data['services']``."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field

from bot.core.answer import Answerer
from bot.settings import Settings
from bot.telegram.access import Access
from bot.telegram.history import ConversationStore
from bot.telegram.limits import UserLimits
from retrieval.stores.catalog import Catalog
from retrieval.ingest import Indexer


@dataclass(eq=False)
class Flight:
    """One question being answered: its cancel switch, and the task to stop while it still waits in the queue."""

    chat_id: int
    cancel: threading.Event = field(default_factory=threading.Event)
    started: bool = False
    pump: object = None  # the asyncio.Task reading the answer's events


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
        if not flight.started and flight.pump is not None:
            flight.pump.cancel()

    def shut_down(self) -> None:
        """Stop generation at the next token and turn away waiting questions ('the bot is restarting')."""
        self.stopping = True
        self.answerer.worker.stop(timeout=0)
