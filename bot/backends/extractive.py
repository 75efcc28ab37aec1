"""The extractive answerer: no model, the sentence or two of the prompt's passages that best answer the question, quoted.

It is a Generator like the others (the worker streams it, the answer path checks it), so it reads the passages back
from the prompt it is given: each passage starts on a line "[n] title", and the question follows the last "Question:".
"""

from __future__ import annotations

import re
import threading
from typing import Iterator, Sequence

from bot.core.ports import Embedder, Usage
from bot.core.quoting import extract_answer

_HEAD = re.compile(r"^\[(\d{1,3})\][ \t]+.*$", re.MULTILINE)
_QUESTION = re.compile(r"^Question:[ \t]*(.+?)\s*\Z", re.MULTILINE | re.DOTALL)


def parse_prompt(messages: Sequence[dict]) -> tuple[str, list[tuple[int, str]]]:
    """The question and the numbered passages (number, text) of the last user message."""
    body = next((m["content"] for m in reversed(messages) if m.get("role") == "user"), "")
    q = _QUESTION.search(body)
    question = q.group(1).strip() if q else body.strip().splitlines()[-1] if body.strip() else ""
    block = body[: q.start()] if q else body
    heads = list(_HEAD.finditer(block))
    passages = []
    for i, h in enumerate(heads):
        chunk = block[h.end() : heads[i + 1].start() if i + 1 < len(heads) else len(block)]
        # The fence lines around the text carry no letters or digits; whatever they are, they are not the passage.
        text = "\n".join(line.strip() for line in chunk.splitlines() if re.search(r"[^\W_]", line))
        if text:
            passages.append((int(h.group(1)), text))
    return question, passages


class ExtractiveGenerator:
    """A Generator that quotes the passages instead of writing: right, short, and instant on any machine."""

    name = "extractive"
    n_ctx = 4096
    quotes = True  # its answer is the passages' words already: the answer path does not quote them again

    def __init__(self, embedder: Embedder | None = None) -> None:
        self.embedder = embedder  # the index's embedder, set by the composition root; None: words only

    def stream(self, messages: Sequence[dict], max_tokens: int, cancel: threading.Event, usage: Usage) -> Iterator[str]:
        """Yield the extractive answer in word-sized pieces, so it streams like a model's."""
        question, passages = parse_prompt(messages)
        text = extract_answer(question, passages, self.embedder)
        usage.prompt_tokens = sum(self.count_tokens(m.get("content", "")) for m in messages)
        for piece in re.findall(r"\S+\s*", text):
            if cancel.is_set():
                return
            usage.completion_tokens += 1
            yield piece

    def count_tokens(self, text: str) -> int:
        """An estimate (four characters a token): only the prompt budget depends on it."""
        return max(1, len(text) // 4)
