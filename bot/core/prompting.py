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
    hint: str = ""  # the sentence retrieval points the model at ({n}, {sentence}); empty: none is shown

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
            hint=read("hint.txt").strip("\n") if (folder / "hint.txt").exists() else "",
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
    pick: Callable[[Sequence[PromptPassage]], tuple[int, str] | None] | None = None,
) -> tuple[list[dict], list[PromptPassage]]:
    """Chat messages (system first, byte-identical every time) and the passages that fit in ``budget`` tokens.

    Today's date goes in the user message, never the system prompt, so llama.cpp keeps reusing the system prompt's KV prefix.
    With ``pick`` (passages → the passage number and sentence most likely to answer, or None), that sentence is
    shown again after the passages (templates.hint): a small model reads the right sentence more often when it is
    pointed at it (docs/answers.md). Its room is kept before the passages are cut to fit.
    """
    system = {"role": "system", "content": templates.system}
    history = list(history)

    def used(hist: Sequence[Turn], body: str) -> int:
        text = templates.system + "".join(t.question + t.answer for t in hist) + body
        return count_tokens(text) + SAFETY_MARGIN * (2 + 2 * len(hist))

    empty = templates.question.format(passages="", question=question, today=today, hint="")
    # Old turns go first when the question and the passages would not fit.
    while history and used(history, empty) > budget // 2:
        history.pop(0)
    room = budget - used(history, empty)
    hint = _hint(templates, pick, passages) if pick else ""
    reserved = count_tokens(hint) + 1 if hint else 0
    room -= reserved
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
    if hint and kept != list(passages):  # picked again among the passages that fit, within the room kept for it
        hint = _hint(templates, pick, kept)
        hint = hint if hint and count_tokens(hint) + 1 <= reserved else ""
    body = templates.question.format(
        passages="\n".join(_render(templates, p) for p in kept), question=question, today=today, hint=hint + "\n\n" if hint else ""
    )
    messages = [system]
    for t in history:
        messages += [{"role": "user", "content": t.question}, {"role": "assistant", "content": t.answer}]
    messages.append({"role": "user", "content": body})
    return messages, kept


QUOTE = '"""'
SPACED = '" " "'


def defuse(text: str) -> str:
    """``text`` with no run of three ``"`` left, so it cannot close a quotation block.

    One pass is not enough: in five quotes the first three become ``" " "`` and its last quote joins the two
    left over into a new triple quote. Each pass shortens the longest run, so repeating until stable ends.
    """
    while QUOTE in text:
        text = text.replace(QUOTE, SPACED)
    return text


def _hint(templates: Templates, pick: Callable[[Sequence[PromptPassage]], tuple[int, str] | None], passages: Sequence[PromptPassage]) -> str:
    """The hint line for the sentence ``pick`` chooses among ``passages``, or "" when it chooses none."""
    if not templates.hint or not passages:
        return ""
    chosen = pick(passages)
    if chosen is None:
        return ""
    n, sentence = chosen
    return templates.hint.format(n=n, sentence=defuse(" ".join(sentence.split())))


def _render(templates: Templates, p: PromptPassage) -> str:
    """A passage as a quotation block; neither its title nor its text can close the block early."""
    title = defuse(" ".join(p.title.split()))
    meta = f" ({defuse(' '.join(p.meta.split()))})" if p.meta.strip() else ""
    return templates.passage.format(n=p.n, title=title, text=defuse(p.text), meta=meta)


def _trim_to(templates: Templates, p: PromptPassage, room: int, count_tokens: Callable[[str], int]) -> PromptPassage | None:
    """The longest leading run of whole sentences of ``p`` that fits in ``room`` tokens, or None."""
    sentences = re.split(r"(?<=[.!?…])\s+", p.text)
    for end in range(len(sentences) - 1, 0, -1):
        candidate = PromptPassage(p.n, p.title, " ".join(sentences[:end]), p.meta)
        if count_tokens(_render(templates, candidate)) + 1 <= room:
            return candidate
    return None


_MARKER = re.compile(r"\s?\[(\d{1,3})\]")
# Common top-level domains: a bare name.tld with one of these (or www., or a path) is a link. Not every ccTLD, so
# "Node.js" or "report.txt" stay text; a scheme, www. or a path makes anything a link.
_TLDS = (
    "com|net|org|info|biz|io|ai|app|dev|me|co|ly|gg|to|tk|tv|cc|xyz|top|site|online|shop|link|click|live|news|"
    "example|onion|ru|cn|fr|de|uk|us|eu|be|ch|ca|es|it|nl|pl|pt|br|in|jp|kr|ir|su|ua|by|kz|ws|pw|cm|ml|ga|cf|gq"
)
_HOST = r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{1,23}"
_PATH = r"[/?#][^\s<>\]\)\"']*"
_LINK = re.compile(
    r"(?:[a-z][a-z0-9+.-]{1,15}://|(?:tg|mailto|javascript|data|intent):)[^\s<>\]\)\"']+"  # any scheme, any case
    rf"|(?<![\w.-])www\.{_HOST}(?::\d+)?(?:{_PATH})?"  # www.evil.example
    rf"|(?<![\w.-]){_HOST}(?::\d+)?{_PATH}"  # evil.example/login, t.me/somebot
    rf"|(?<![\w.-])(?:[a-z0-9](?:[a-z0-9-]{{0,61}}[a-z0-9])?\.)+(?:{_TLDS})\b(?![.-]\w)"  # evil.com
    r"|(?<![\w@.])@[a-z][a-z0-9_]{2,31}\b",  # @somebot (Telegram user and bot names)
    re.I,
)
_TRAILING = ".,;:!?"


def _norm(link: str) -> str:
    """A link compared without case, trailing punctuation, scheme or www."""
    link = link.lower().rstrip(_TRAILING)
    link = re.sub(r"^(?:https?://)?(?:www\.)?", "", link)
    return link.rstrip("/")


def allowed_links(texts: Sequence[str], names_only: bool = False) -> set[str]:
    """The links and @-names found in ``texts``, and each link's host; with ``names_only``, the @-names alone."""
    found: set[str] = set()
    for text in texts:
        for m in _LINK.finditer(text):
            link = _norm(m.group(0))
            if names_only and not link.startswith("@"):
                continue
            found.add(link)
            found.add(link.split("/", 1)[0])  # the site of an article may be named without the page
    return found


def clean_answer(text: str, n_passages: int, urls: Sequence[str], passages: Sequence[str] = ()) -> str:
    """Remove citation markers that point at no passage, and links and @-names that the cited sources do not contain.

    Links may come from the cited sources' ``urls`` (the articles' own addresses, and their sites); @-names also
    from their ``passages`` (news quotes accounts). A link written inside an article's text is not enough: an
    article can carry an attacker's link. Matching ignores case, and catches links without a scheme
    (``evil.example/login``, ``www.evil.example``, ``t.me/x``), other schemes (``tg://resolve?domain=…``) and
    Telegram names (``@somebot``): a model tricked by an article must not hand users somewhere to go.
    """
    text = _MARKER.sub(lambda m: m.group(0) if 1 <= int(m.group(1)) <= n_passages else "", text)
    allowed = allowed_links(urls) | allowed_links(passages, names_only=True)

    def keep(m: re.Match) -> str:
        """The link itself when allowed, else the removal notice (trailing punctuation kept)."""
        link = m.group(0)
        tail = link[len(link.rstrip(_TRAILING)):]
        return link if _norm(link) in allowed else "[link removed]" + tail

    return _LINK.sub(keep, text).strip()


def cited(text: str) -> list[int]:
    """Passage numbers cited in an answer, in order of first citation."""
    seen: list[int] = []
    for m in _MARKER.finditer(text):
        n = int(m.group(1))
        if n not in seen:
            seen.append(n)
    return seen
