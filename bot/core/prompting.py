"""Prompts: the templates in prompts/, passages laid out as quotations, trimmed to fit the context window."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

SAFETY_MARGIN = 16  # tokens the chat template adds around each message


@dataclass(frozen=True)
class Templates:
    """The prompt files, read once at start-up."""

    system: str
    passage: str
    question: str
    abstain: dict[str, str]
    abstain_empty: dict[str, str]
    abstain_range: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, folder: Path | None = None) -> "Templates":
        """Read the templates from ``folder`` (default: the shipped prompts/)."""
        if folder is None:
            from bot.resources import prompts_dir

            folder = prompts_dir()
        read = lambda name: (folder / name).read_text(encoding="utf-8")  # noqa: E731
        return cls(
            system=read("system.txt").strip(),
            passage=read("passage.txt").strip("\n"),
            question=read("question.txt").strip("\n"),
            abstain={lang: read(f"abstain_{lang}.txt").strip() for lang in ("en", "fr")},
            abstain_empty={lang: read(f"abstain_empty_{lang}.txt").strip() for lang in ("en", "fr")},
            abstain_range={lang: read(f"abstain_range_{lang}.txt").strip() for lang in ("en", "fr")},
        )


@dataclass(frozen=True)
class PromptPassage:
    """One passage as shown to the model."""

    n: int
    title: str
    text: str
    meta: str = ""  # 'Les Échos · 9 juin 2025': where and when it was published


@dataclass(frozen=True)
class Turn:
    """One earlier exchange of a conversation."""

    question: str
    answer: str


def build_messages(
    templates: Templates,
    question: str,
    passages: Sequence[PromptPassage],
    history: Sequence[Turn],
    count_tokens: Callable[[str], int],
    budget: int,
    today: str = "",
) -> tuple[list[dict], list[PromptPassage]]:
    """Chat messages (system first, byte-identical every time) and the passages that fit in ``budget`` tokens.

    Today's date goes in the user message, never the system prompt, so llama.cpp keeps reusing the system prompt's KV prefix.
    """
    system = {"role": "system", "content": templates.system}
    history = list(history)

    def used(hist: Sequence[Turn], body: str) -> int:
        text = templates.system + "".join(t.question + t.answer for t in hist) + body
        return count_tokens(text) + SAFETY_MARGIN * (2 + 2 * len(hist))

    empty = templates.question.format(passages="", question=question, today=today)
    # Old turns go first when the question and the passages would not fit.
    while history and used(history, empty) > budget // 2:
        history.pop(0)
    room = budget - used(history, empty)
    kept: list[PromptPassage] = []
    for p in passages:
        block = _render(templates, p)
        cost = count_tokens(block) + 1
        if cost <= room:
            kept.append(p)
            room -= cost
            continue
        if room > 48:  # a worthwhile part of this passage still fits: cut it at a sentence end
            cut = _trim_to(templates, p, room, count_tokens)
            if cut is not None:
                kept.append(cut)
        break
    body = templates.question.format(passages="\n".join(_render(templates, p) for p in kept), question=question, today=today)
    messages = [system]
    for t in history:
        messages += [{"role": "user", "content": t.question}, {"role": "assistant", "content": t.answer}]
    messages.append({"role": "user", "content": body})
    return messages, kept


QUOTE = '"""'


def _render(templates: Templates, p: PromptPassage) -> str:
    """A passage as a quotation block; neither its title nor its text can close the block early."""
    title = " ".join(p.title.replace(QUOTE, '" " "').split())
    return templates.passage.format(n=p.n, title=title, text=p.text.replace(QUOTE, '" " "'), meta=f" ({' '.join(p.meta.split())})" if p.meta.strip() else "")


def _trim_to(templates: Templates, p: PromptPassage, room: int, count_tokens: Callable[[str], int]) -> PromptPassage | None:
    """The longest leading run of whole sentences of ``p`` that fits in ``room`` tokens, or None."""
    sentences = re.split(r"(?<=[.!?…])\s+", p.text)
    for end in range(len(sentences) - 1, 0, -1):
        candidate = PromptPassage(p.n, p.title, " ".join(sentences[:end]), p.meta)
        if count_tokens(_render(templates, candidate)) + 1 <= room:
            return candidate
    return None


_MARKER = re.compile(r"\s?\[(\d{1,3})\]")
_LINK = re.compile(r"https?://[^\s<>\]\)\"']+")


def clean_answer(text: str, n_passages: int, allowed_links: Sequence[str]) -> str:
    """Remove citation markers that point at no passage and links that no cited source contains."""
    text = _MARKER.sub(lambda m: m.group(0) if 1 <= int(m.group(1)) <= n_passages else "", text)
    allowed = set(allowed_links)
    text = _LINK.sub(lambda m: m.group(0) if m.group(0).rstrip(".,;:") in allowed else "[link removed]", text)
    return text.strip()


def cited(text: str) -> list[int]:
    """Passage numbers cited in an answer, in order of first citation."""
    seen: list[int] = []
    for m in _MARKER.finditer(text):
        n = int(m.group(1))
        if n not in seen:
            seen.append(n)
    return seen
