"""Quoting the passages: the sentence or two that best answer a question, in the passages' own words, cited.

The extractive answerer (bot/backends/extractive.py) is nothing else; the answer path also quotes when a model's
statement fails the checks (bot.core.checking), so a wrong figure gives way to the passage's own sentence.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Sequence

from bot.core import figures, language
from bot.core.attribution import MARKER, names, split_sentences
from bot.core.ports import Embedder
from retrieval.textnorm import fold, terms

NOTE = {
    "fr": "(Extrait cité tel quel des articles ; un modèle de langue donne des réponses plus complètes : voir `newsbot models`.)",
    "en": "(Quoted as is from the articles; a language model gives fuller answers: see `newsbot models`.)",
}
# Shown instead of a model's answer that the checks could not stand behind (bot.core.checking).
INSTEAD_NOTE = {
    "fr": "(Extrait cité tel quel des articles : la réponse du modèle n'a pas pu être vérifiée dans les sources.)",
    "en": "(Quoted as is from the articles: the model's answer could not be checked against the sources.)",
}
LEAD = {"fr": "D’après les articles :", "en": "From the articles:"}
EMBED_WEIGHT = 20.0  # points per unit of cosine above the median sentence (e5 cosines differ by ~0.05 between sentences)
WEAK = 1.0  # below this best word overlap, the encoder is asked too
SECOND = 0.3  # a second sentence is quoted unless the best one far outscores it (0.3 measured best on the tuning set)
COVERED = 0.9  # an answer holding this share of the quoted sentences' content words already says them: no evidence
# What a question asks for, by its first words: a figure, a date, or a name.
_WANTS = [
    (re.compile(r"\b(combien|how (much|many)|quel(le)? (montant|somme|chiffre|part|pourcentage)|what (share|percentage|amount))\b", re.I), "figure"),
    (re.compile(r"\b(quand|when|quelle (année|date)|what (year|date)|en quelle année|depuis quand)\b", re.I), "date"),
    (re.compile(r"\b(qui|who|quelle entreprise|which compan(y|ies)|quels? (clients|pays)|where|où)\b", re.I), "name"),
]


def wants(question: str) -> str | None:
    """What kind of answer the question asks for: 'figure', 'date', 'name' or None."""
    for pattern, kind in _WANTS:
        if pattern.search(question):
            return kind
    return None


def sentences_of(passages: Sequence[tuple[int, str]]) -> list[tuple[int, str]]:
    """The passages' sentences in order, (passage number, sentence); a line of its own (an article's heading) is never
    part of the next sentence."""
    return [(n, s) for n, text in passages for line in text.splitlines() for s in split_sentences(line)]


def rank(question: str, passages: Sequence[tuple[int, str]], embedder: Embedder | None = None) -> list[tuple[float, int, str]]:
    """Every sentence of the passages scored against the question, best first: (score, passage number, sentence).

    The score is word overlap (idf-weighted, the lexical index's normalisation), names, the kind of answer asked
    for and, with an embedder, the multilingual similarity that matches "revenue" to "chiffre d'affaires".
    """
    sentences = sentences_of(passages)
    if not sentences:
        return []
    df = Counter(t for _, s in sentences for t in set(terms(s)))
    # BM25's idf, floored at 0: the subject every sentence names ("Scale AI") tells the sentences apart least.
    idf = lambda t: max(0.0, math.log((len(sentences) - df[t] + 0.5) / (df[t] + 0.5)))  # noqa: E731
    q_terms = set(terms(question))
    q_names = names(question) | {fold(w) for w in re.findall(r"\b[A-Z][\w-]+", question)}
    kind = wants(question)
    asked = asked_names(question)
    lexical = [sum(idf(t) for t in q_terms & (set(terms(s)) | referent(sentences, i, asked))) for i, (_, s) in enumerate(sentences)]
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


# A sentence that opens on a pronoun or a possessive speaks of a subject named before it ("Il porte à Rio son record …").
_ANAPHOR = re.compile(r"^\W*(il|elle|ils|elles|son|sa|ses|leur|leurs|celui-ci|celle-ci|ce dernier|cette dernière|he|she|they|his|her|its|their)\b", re.I)
REFERENT_WINDOW = 2  # sentences back where its referent is looked for ("X est chargé … Après …, il arrive … Il est accueilli")


def asked_names(question: str) -> set[str]:
    """The question's capitalised words after its first, as lexical terms ("Michael Phelps" -> {"michael", "phelp"})."""
    return set(terms(" ".join(re.findall(r"(?<!^)\b[A-ZÀ-Ý][\w-]+", question.strip()))))


def referent(sentences: Sequence[tuple[int, str]], order: int, asked: set[str]) -> set[str]:
    """The names ``asked`` that the sentence ``order``, when it opens on a pronoun, takes from the sentence or two before
    it in its passage: "Il porte à Rio son record … à 23 titres olympiques" answers "Combien de médailles Michael Phelps
    possède-t-il ?" although only the sentence before names him (PIAF, 541 questions: the quote holds the gold 377
    times against 375; docs/answers.md)."""
    n, sentence = sentences[order]
    before = [s for m, s in sentences[max(0, order - REFERENT_WINDOW) : order] if m == n]
    if not asked or not before or not _ANAPHOR.match(sentence):
        return set()
    return asked & set(terms(" ".join(before)))


def extract_answer(
    question: str, passages: Sequence[tuple[int, str]], embedder: Embedder | None = None, note: dict[str, str] = NOTE,
    strict: bool = False, first: Sequence[tuple[int, str]] = (),
) -> str:
    """The answer: the best sentence (and a close second) quoted with its marker, then a one-line ``note``.

    With ``strict`` (quoting in place of a model's failed answer), "the articles do not say" when the question and the
    passages are in one language and the best sentence shares no content word with the question: the encoder ranks
    some sentence first for any question, "Quelle est la capitale du Canada ?" included.
    """
    lang = language.detect(question)
    quoted = quotation(question, passages, embedder, strict, first)
    if quoted is None:
        return "Les articles ne le disent pas." if lang == "fr" else "The articles do not say."
    return f"{quoted}\n\n{note[lang]}"


def quotation(
    question: str, passages: Sequence[tuple[int, str]], embedder: Embedder | None = None, strict: bool = False,
    first: Sequence[tuple[int, str]] = (),
) -> str | None:
    """"From the articles: “best sentence” [n] “close second” [m]", in the question's language, or None when no sentence
    answers (``extract_answer``'s ``strict`` rule included). Sentences ``first`` (what sets a flagged sentence right:
    bot.core.attribution.Sentence.holders) come before the best one, two sentences in all."""
    chosen = _chosen(question, passages, embedder, strict)
    if first:
        chosen = list(dict.fromkeys([(n, s.strip()) for n, s in first] + chosen))[:2]
    return _quoted(language.detect(question), chosen) if chosen else None


def _chosen(question: str, passages: Sequence[tuple[int, str]], embedder: Embedder | None, strict: bool) -> list[tuple[int, str]]:
    """The best sentence and a close second, (passage number, sentence); none when nothing answers."""
    ranked = rank(question, passages, embedder)
    if not ranked or ranked[0][0] <= 0:
        return []
    if strict and language.detect(question) == language.detect(" ".join(t for _, t in passages)) and not set(terms(question)) & set(terms(ranked[0][2])):
        return []  # within one language, a best sentence sharing no word with the question is about something else
    chosen = [ranked[0]]
    if len(ranked) > 1 and ranked[1][0] >= SECOND * ranked[0][0] and ranked[1][2] != ranked[0][2]:
        chosen.append(ranked[1])
    return [(n, sentence.strip()) for _, n, sentence in chosen]


def _quoted(lang: str, chosen: Sequence[tuple[int, str]]) -> str:
    """The sentences quoted with their markers, after "From the articles:"."""
    open_, close = ("« ", " »") if lang == "fr" else ("“", "”")
    return f"{LEAD[lang]} " + " ".join(f"{open_}{sentence}{close} [{n}]" for n, sentence in chosen)


def evidence(
    question: str, answer: str, passages: Sequence[tuple[int, str]], embedder: Embedder | None = None,
    first: Sequence[tuple[int, str]] = (),
) -> str | None:
    """The passages' sentences to quote after a model's ``answer`` (bot.core.checking), two at most, without those the
    answer already says (it holds ``COVERED`` of their content words); None when none is left.

    First the sentence that best answers ``question``, then a close second. Sentences ``first`` (what sets a flagged
    sentence right: bot.core.attribution.Sentence.holders) come before all. The stand-in's short answers name the
    wrong person of the right sentence or answer from a neighbouring one; the reader who sees the sentences under
    the answer can check it at once (docs/answers.md, "The answer and its evidence").
    """
    said, asked = set(terms(MARKER.sub(" ", answer))), set(terms(question))
    unsaid = lambda xs: [(n, s.strip()) for n, s in xs if not (w := set(terms(s))) or len(w & said) < COVERED * len(w)]  # noqa: E731
    chosen = _chosen(question, passages, embedder, strict=True)
    # The close second must share a word with the question (two tiny passages make any sentence a close second) and be
    # a sentence, not an article's heading ("Meta et Scale AI : une négociation qui fait trembler la Silicon Valley").
    best = unsaid(chosen[:1])
    second = unsaid([(n, s) for n, s in chosen[1:] if asked & set(terms(s)) and re.search(r"[.!?…][»”\")]*$", s)])
    left = list(dict.fromkeys(unsaid(first) + best + second))[:2]
    return _quoted(language.detect(question), left) if left else None


def best_sentence(question: str, passages: Sequence[tuple[int, str]], embedder: Embedder | None = None) -> tuple[int, str] | None:
    """The passage number and sentence that best answer ``question`` (as the extractive answerer ranks them), or None
    when no sentence shares anything with it."""
    ranked = rank(question, passages, embedder)
    if not ranked or ranked[0][0] <= 0:
        return None
    return ranked[0][1], ranked[0][2].strip()
