"""The extractive answerer: no model, the sentence or two of the prompt's passages that best answer the question, quoted.

It is a Generator like the others (the worker streams it, the answer path checks it), so it reads the passages back
from the prompt it is given: each passage starts on a line "[n] title", and the question follows the last "Question:".
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from typing import Iterator, Sequence

from bot.core import figures, language
from bot.core.attribution import names, split_sentences
from bot.core.ports import Embedder, Usage
from retrieval.textnorm import fold, terms

_HEAD = re.compile(r"^\[(\d{1,3})\][ \t]+.*$", re.MULTILINE)
_QUESTION = re.compile(r"^Question:[ \t]*(.+?)\s*\Z", re.MULTILINE | re.DOTALL)
NOTE = {
    "fr": "(Extrait cité tel quel des articles ; un modèle de langue donne des réponses plus complètes : voir `newsbot models`.)",
    "en": "(Quoted as is from the articles; a language model gives fuller answers: see `newsbot models`.)",
}
LEAD = {"fr": "D’après les articles :", "en": "From the articles:"}
EMBED_WEIGHT = 20.0  # points per unit of cosine above the median sentence (e5 cosines differ by ~0.05 between sentences)
WEAK = 1.0  # below this best word overlap, the encoder is asked too
SECOND = 0.3  # a second sentence is quoted unless the best one far outscores it (0.3 measured best on the tuning set)
# What a question asks for, by its first words: a figure, a date, or a name.
_WANTS = [
    (re.compile(r"\b(combien|how (much|many)|quel(le)? (montant|somme|chiffre|part|pourcentage)|what (share|percentage|amount))\b", re.I), "figure"),
    (re.compile(r"\b(quand|when|quelle (année|date)|what (year|date)|en quelle année|depuis quand)\b", re.I), "date"),
    (re.compile(r"\b(qui|who|quelle entreprise|which compan(y|ies)|quels? (clients|pays)|where|où)\b", re.I), "name"),
]


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


def wants(question: str) -> str | None:
    """What kind of answer the question asks for: 'figure', 'date', 'name' or None."""
    for pattern, kind in _WANTS:
        if pattern.search(question):
            return kind
    return None


def rank(question: str, passages: Sequence[tuple[int, str]], embedder: Embedder | None = None) -> list[tuple[float, int, str]]:
    """Every sentence of the passages scored against the question, best first: (score, passage number, sentence).

    The score is word overlap (idf-weighted, the lexical index's normalisation), names, the kind of answer asked
    for and, with an embedder, the multilingual similarity that matches "revenue" to "chiffre d'affaires".
    """
    # A line of its own (an article's heading) is never part of the next sentence.
    sentences = [(n, s) for n, text in passages for line in text.splitlines() for s in split_sentences(line)]
    if not sentences:
        return []
    df = Counter(t for _, s in sentences for t in set(terms(s)))
    # BM25's idf, floored at 0: the subject every sentence names ("Scale AI") tells the sentences apart least.
    idf = lambda t: max(0.0, math.log((len(sentences) - df[t] + 0.5) / (df[t] + 0.5)))  # noqa: E731
    q_terms = set(terms(question))
    q_names = names(question) | {fold(w) for w in re.findall(r"\b[A-Z][\w-]+", question)}
    kind = wants(question)
    lexical = [sum(idf(t) for t in q_terms & set(terms(s))) for _, s in sentences]
    similarity = [0.0] * len(sentences)
    other_language = language.detect(question) != language.detect(" ".join(text for _, text in passages))
    if embedder is not None and (other_language or max(lexical) < WEAK):
        # Words rarely cross languages ("revenue" / "chiffre d'affaires"): the multilingual encoder does.
        sims = embedder.embed_passages([s for _, s in sentences]) @ embedder.embed_query(question)
        similarity = [float(x) for x in sims - float(sorted(sims)[len(sims) // 2])]
    scored = []
    for order, (n, s) in enumerate(sentences):
        score = lexical[order] + EMBED_WEIGHT * similarity[order]
        found = figures.extract(s)
        if kind == "figure" and any(not f.key.startswith("date:") for f in found):
            score += 1.5
        elif kind == "date" and any(f.key.startswith("date:") or re.fullmatch(r"num:(1[89]|20)\d\d", f.key) for f in found):
            score += 1.5
        elif kind == "name" and names(s) - q_names:
            score += 1.0
        score -= 0.02 * order  # ties go to the passage retrieval ranked first
        if s.rstrip().endswith("?"):
            score *= 0.3  # an article's rhetorical question answers nothing
        scored.append((score, n, s))
    return sorted(scored, key=lambda x: -x[0])


def extract_answer(question: str, passages: Sequence[tuple[int, str]], embedder: Embedder | None = None) -> str:
    """The answer: the best sentence (and a close second) quoted with its marker, then a one-line note."""
    lang = language.detect(question)
    ranked = rank(question, passages, embedder)
    if not ranked or ranked[0][0] <= 0:
        return "Les articles ne le disent pas." if lang == "fr" else "The articles do not say."
    chosen = [ranked[0]]
    if len(ranked) > 1 and ranked[1][0] >= SECOND * ranked[0][0] and ranked[1][2] != ranked[0][2]:
        chosen.append(ranked[1])
    open_, close = ("« ", " »") if lang == "fr" else ("“", "”")
    quotes = " ".join(f"{open_}{s.strip()}{close} [{n}]" for _, n, s in chosen)
    return f"{LEAD[lang]} {quotes}\n\n{NOTE[lang]}"


class ExtractiveGenerator:
    """A Generator that quotes the passages instead of writing: right, short, and instant on any machine."""

    name = "extractive"
    n_ctx = 4096

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
