"""Citations attributed in code: each sentence of an answer is matched to the passages that support it.

Support is overlap of figures (bot.core.figures), names and content words after the lexical index's normalisation
(retrieval.textnorm.terms), so a French passage supports an English sentence through its figures and names.
Markers pointing at a passage that does not support the sentence are moved to one that does, missing markers are
added, and markers no passage supports are dropped; a sentence whose figures no passage holds is flagged, and so is
one that gives the question's subject a name only another article holds (``joined``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping, Sequence

from bot.core import figures, language
from retrieval.textnorm import fold, terms

MARKER = re.compile(r"\s*\[(\d{1,3})\]")
# Markers in a row with what joins them ("[1], [2] and [3]"): taken out of a sentence whole, separators too.
_MARKER_RUN = re.compile(r"\s*\[\d{1,3}\](?:\s*[,;&]?\s*(?:(?:and|et)\s+)?\[\d{1,3}\])*")
# A sentence ends at . ! ? or … (closing quotes and markers after it stay with it) before a space; "M." and "14.3" do not.
_END = re.compile(r"[.!?…]+(?:\s?[»”\"’)])*(?:\s*\[\d{1,3}\])*(?=\s|$)")
_QUOTE = re.compile(r"«[^»]*»|“[^”]*”")
_NOT_END = re.compile(r"(?:\b[A-Z]|\b(?:etc|cf|vs|Dr|Mr|Mrs|St|Inc|av|J\.-C))\.$")
_NAME = re.compile(r"(?<![\w'’])[A-Z][\w\-]*(?:\s+[A-Z][\w\-]*)*")
KEEP_SHARE = 0.5  # a cited passage scoring under this share of the best supporter loses the marker to it
# A figure is misplaced when the passages hold it only in sentences sharing at most this share of the words that the
# passage sentence most like the answer's shares, and that sentence gives a different figure of the same kind.
MISPLACED_SHARE = 0.6
MISPLACED_MARGIN = 2  # ... and at least this many words fewer
COVERAGE = 0.34  # share of a sentence's content words a passage must hold when the sentence has no figure or name


@dataclass(frozen=True)
class Sentence:
    """One sentence of an attributed answer."""

    text: str  # the sentence as finally shown, with its markers
    cited: tuple[int, ...]  # passage numbers it cites after attribution
    original: tuple[int, ...]  # passage numbers the model cited
    unsupported: tuple[str, ...] = ()  # what flags it: figures no passage holds, or names joined across articles
    # The passage sentences that set a flagged sentence right: where a misnamed sentence's figures are (``misnamed``), or
    # the one a misplaced figure's statement is about, with its own figure (``misplaced``). Quoted first in its place.
    holders: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class Attributed:
    """An answer after attribution: its sentences and the passages cited, in order of first citation."""

    sentences: list[Sentence]
    cited: list[int] = field(default_factory=list)

    def text(self, unsupported: str = "mark", note: str = "(not found in the sources)") -> str:
        """The answer: flagged sentences marked with ``note`` or removed (``unsupported`` = 'mark' or 'remove')."""
        parts = []
        for s in self.sentences:
            if s.unsupported and unsupported == "remove":
                continue
            parts.append(_before_end(s.text, note) if s.unsupported else s.text)
        return " ".join(parts).strip()

    @property
    def flagged(self) -> list[str]:
        """The sentences with an unsupported figure, without markers."""
        return [MARKER.sub("", s.text).strip() for s in self.sentences if s.unsupported]


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text``, each keeping the markers that follow its final punctuation; paragraph breaks split too."""
    out: list[str] = []
    for para in re.split(r"\n\s*\n|\n(?=\s*[-*•]\s)", text.strip()):
        start = 0
        quoted = [q.span() for q in _QUOTE.finditer(para)]
        for m in _END.finditer(para):
            if _NOT_END.search(para[start : m.start() + 1]) or any(a < m.start() and m.end() < b for a, b in quoted):
                continue  # an abbreviation, or a full stop inside a quotation: the sentence goes on
            out.append(para[start : m.end()].strip())
            start = m.end()
        if para[start:].strip():
            out.append(para[start:].strip())
    return [s for s in out if s]


def names(text: str) -> set[str]:
    """Folded capitalised words of ``text`` that are not its first word (the first is capitalised anyway)."""
    found: set[str] = set()
    for m in _NAME.finditer(text):
        words = m.group(0).split()
        if m.start() == 0 or text[: m.start()].rstrip().endswith((".", "!", "?", ":", "«", '"', "“")):
            words = words[1:]
        found.update(fold(w) for w in words if len(w) > 1)
    return found


@dataclass(frozen=True)
class _Passage:
    """A passage's comparable features, computed once."""

    n: int
    figures: frozenset[str]
    names: frozenset[str]
    terms: frozenset[str]


def titled(text: str, title: str | None) -> str:
    """The text whose figures a passage supports: its own and its article title's (``passage_features``)."""
    return f"{title}\n{text}" if title else text


def passage_features(n: int, text: str, title: str | None = None) -> _Passage:
    """The support features of one passage. The figures of its article's title count as its own: the model read the
    passage under it, and a reader sees it above the quote ("aux JO de 2016, avec 121 podiums" is held by a passage of
    "Jeux olympiques d'été de 2016" that gives the 121 podiums and not the year). The title's names and words do not:
    every passage of the article shares them, so they would let any of them support a sentence."""
    keys = figures.support_keys(titled(text, title))
    return _Passage(n, frozenset(keys), frozenset(fold(w) for w in re.findall(r"[^\W_]+", text)), frozenset(terms(text)))


def support(sentence: str, passage: _Passage) -> float:
    """How well ``passage`` supports ``sentence``: 0 when it lacks one of the sentence's figures, else an overlap score."""
    body = MARKER.sub("", sentence)
    keys = figures.keys(body)
    if keys - passage.figures:
        return 0.0
    sent_names = names(body)
    sent_terms = set(terms(body))
    hit_names = len(sent_names & passage.names)
    hit_terms = len(sent_terms & passage.terms)
    if not keys and not hit_names and (not sent_terms or hit_terms / len(sent_terms) < COVERAGE):
        return 0.0
    return 2.0 * len(keys) + 1.5 * hit_names + hit_terms / max(1, len(sent_terms))


def attribute(
    answer: str, passages: Sequence[tuple[int, str]], titles: Mapping[int, str] | None = None, question: str = ""
) -> Attributed:
    """Attribute each sentence of ``answer`` to the passages (number, text) supporting it, the figures of each one's
    title in ``titles`` counted as its own (``passage_features``); fix its markers. With ``question``, a sentence
    joining the question's names to another article's names is flagged too (``joined``)."""
    feats = [passage_features(n, text, (titles or {}).get(n)) for n, text in passages]
    articles = _articles(passages, titles or {}) if question else []
    asked = _words(question)
    said = [_Said(figures.support_keys(t), frozenset(terms(without_figures(t))), language.detect(text), n, t, subject(t), capitalised(t))
            for n, text in passages for t in split_sentences(text)]
    all_figures = frozenset().union(*(f.figures for f in feats)) if feats else frozenset()
    out: list[Sentence] = []
    order: list[int] = []
    for raw in split_sentences(answer):
        original = tuple(dict.fromkeys(int(n) for n in MARKER.findall(raw)))
        body = _MARKER_RUN.sub("", raw).strip()
        missing = tuple(f.raw for f in figures.extract(body) if f.key not in all_figures)
        holders: tuple[_Said, ...] = ()
        if not missing:
            missing, holders = misplaced(body, said)
        if not missing and (holders := misnamed(body, said)):
            missing = tuple(f.raw for f in _counted(body))
        missing = missing or joined(asked, body, articles)
        scores = {f.n: support(body, f) for f in feats}
        best = max(scores.values(), default=0.0)
        # A marker stays when its passage supports the sentence about as well as the best one: a passage that shares
        # one name ("AI") with it while another holds all of them is a neighbour's marker, moved to the better one.
        kept = tuple(n for n in original if scores.get(n, 0.0) > 0 and scores[n] >= KEEP_SHARE * best)
        if not kept and not missing and scores and max(scores.values()) > 0:
            kept = (max(scores, key=lambda n: (scores[n], -n)),)  # the wrong or missing marker: the best supporter
        shown = raw.strip() if kept == original else _place(body, kept)  # right markers stay where the model put them
        out.append(Sentence(shown, kept, original, missing, tuple((h.n, h.text) for h in holders)))
        order += [n for n in kept if n not in order]
    return Attributed(out, order)


@dataclass(frozen=True)
class _Said:
    """One sentence of a passage: its figure keys and its content words (figures left out)."""

    keys: frozenset[str] | set[str]
    terms: frozenset[str]
    lang: str  # its passage's language: words are compared only within one language
    n: int = 0  # its passage's number
    text: str = ""
    subject: frozenset[str] = frozenset()  # the name it opens on (``subject``)
    names: frozenset[str] = frozenset()  # every capitalised word of it, folded


def without_figures(text: str) -> str:
    """``text`` with its figures blanked, so "10 milliards" and "65 milliards" compare on the words around them."""
    for f in reversed(figures.extract(text)):
        text = text[: f.start] + " " + text[f.end :]
    return text


def misplaced(body: str, said: Sequence[_Said]) -> tuple[tuple[str, ...], tuple[_Said, ...]]:
    """Figures of ``body`` that the passages hold, but about something else: "Meta will invest 65 billion in Scale AI"
    when 65 billion is what Meta spends on AI this year and the sentence on the Scale AI investment says 10 billion;
    and, when there are some, the passage sentence ``body`` is most like, which gives the right one (the Scale AI
    sentence).

    A figure is misplaced when the passage sentence most like ``body`` gives another figure of the same kind (an amount
    for an amount, a date for a date) and not this one, and every sentence holding this one is clearly less alike.
    """
    found = figures.extract(body)
    said = [s for s in said if s.lang == language.detect(body)]  # "spend" and "dépenser" share no word: no evidence
    if not found or not said:
        return (), ()
    words = set(terms(without_figures(body)))
    own = {f.key for f in found}
    overlap = [len(words & s.terms) for s in said]
    top = max(overlap)
    closest = [s for s, o in zip(said, overlap) if o == top]
    out = []
    for f in found:
        holding = [o for s, o in zip(said, overlap) if f.key in s.keys]
        if not holding or any(f.key in s.keys for s in closest):
            continue
        kind = f.key.split(":", 1)[0]
        rival = all(any(k.startswith(kind + ":") and k not in own for k in s.keys) for s in closest)
        if rival and max(holding) <= MISPLACED_SHARE * top and max(holding) <= top - MISPLACED_MARGIN:
            out.append(f.raw)
    return tuple(out), tuple(closest[:1]) if out else ()


# A sentence's subject is the name it opens on, after an article: "Les États-Unis terminent …", "Le Brésil a gagné …".
_SUBJECT = re.compile(r"^\W*(?i:(?:le|la|les|the)\s+|l['’])?((?:[A-ZÀ-Ý][\w\-]+)(?!['’])(?:\s+(?:(?:de|du|des|of|d['’])\s*)?[A-ZÀ-Ý][\w\-]*)*)")
# Capitalised words that open a sentence without being a name: no subject then ("En football, le Brésil …").
_OPENERS = frozenset(fold(w) for w in (
    "le la les un une des du de en dans au aux pour par sur selon après avant avec depuis mais et ou donc ce cette ces il elle "
    "ils elles on son sa ses leur leurs lors quand si tous tout toute the a an in on at for by with after before since but "
    "and or this that these those it he she they his her its their when if all according during ainsi alors puis enfin "
    "ensuite cependant toutefois pourtant aussi désormais déjà encore surtout notamment however then thus also yet still").split())


def subject(sentence: str) -> frozenset[str]:
    """The folded words of the name ``sentence`` opens on ("Les États-Unis terminent …" -> {"etats-unis"}); empty
    when it opens on anything else ("Il porte à Rio …", "En football, le Brésil …", "La start-up …")."""
    m = _SUBJECT.match(sentence)
    if not m or fold(m.group(1).split()[0]) in _OPENERS:
        return frozenset()
    return frozenset(fold(w) for w in re.findall(r"[A-ZÀ-Ý][\w\-]*", m.group(1)))


def capitalised(text: str) -> frozenset[str]:
    """Every capitalised word of ``text``, folded, the first one and those after an elision ("l'Allemagne") included."""
    return frozenset(fold(w) for w in re.findall(r"(?<!\w)[A-ZÀ-Ý][\w\-]*", text))


def _counted(body: str) -> list[figures.Figure]:
    """The figures of ``body`` that say how much or how many: dates and years (the context of the answer) left out."""
    return [f for f in figures.extract(body) if not f.key.startswith("date:") and not re.fullmatch(r"num:(1[5-9]|20)\d\d", f.key)]


def misnamed(body: str, said: Sequence[_Said]) -> tuple[_Said, ...]:
    """The passage sentences holding the figures of ``body`` when ``body`` gives them to another subject: "Le Brésil a
    gagné le plus de médailles, avec 121 podiums dont 46 médailles d'or" when the passages say "Les États-Unis terminent
    en tête du tableau des médailles avec 121 podiums dont 46 médailles d'or" and name Brazil in the sentence before.

    Misnamed means: ``body`` opens on a name, every sentence holding its counted figures (``_counted``) opens on another
    name and does not name it, and another sentence of the passages does (the model took it from there). Empty else.
    """
    own, found = subject(body), _counted(body)
    if not own or not found or _QUOTE.search(body):  # a quotation of the passages gives their own subject
        return ()
    keys = {f.key for f in found}
    holders = [s for s in said if keys <= s.keys]
    borrowed = any(own & s.names for s in said if not keys <= s.keys)
    if holders and borrowed and all(s.subject and not s.subject & own and not own & s.names for s in holders):
        return tuple(holders)
    return ()


def _words(text: str) -> frozenset[str]:
    """The folded words of ``text``: what a question or an article says, capitalised or not."""
    return frozenset(fold(w) for w in re.findall(r"[^\W_]+", text))


def _articles(passages: Sequence[tuple[int, str]], titles: Mapping[int, str]) -> list[tuple[frozenset[str], frozenset[str]]]:
    """Per article (the passages under one title; a passage without a title is its own), its words and its names: the
    capitalised words of its title and the names of its passages (``_named``: "Pendant la guerre" names no one),
    folded and split at hyphens as ``_words`` splits them."""
    texts: dict[object, list[str]] = {}
    for n, text in passages:
        title = titles.get(n)
        texts.setdefault(title if title else ("passage", n), [title or ""]).append(text)
    out = []
    for parts in texts.values():
        named = {w for part in parts for w in _named(part)} | {w for name in capitalised(parts[0]) for w in _words(name)}
        out.append((_words("\n".join(parts)), frozenset(named - _OPENERS)))
    return out


def _named(text: str) -> set[str]:
    """The folded words of the names in ``text``: capitalised words that do not open a sentence, those after an
    elision, and a sentence's opening word when a capitalised word follows it ("Elphias Doge est …")."""
    found = {w for name in names(text) for w in _words(name)}
    found |= {w for m in re.findall(r"(?<=\w['’])[A-ZÀ-Ý][\w\-]*", text) for w in _words(m)}
    found |= {w for m in _NAME.finditer(text) if len(m.group(0).split()) > 1 for w in _words(m.group(0))}
    return found


def joined(asked: frozenset[str], body: str, articles: Sequence[tuple[frozenset[str], frozenset[str]]]) -> tuple[str, ...]:
    """The names ``body`` takes from another article than the one the question's names are from: "Elphias Doge est
    le fils de Dumbledore" asked "Qui est le père d'Albus Dumbledore ?", when Elphias Doge is named only in an
    article on Doge and no article names him with Dumbledore. A small model reading passages of two articles joins
    the question's subject to the other article's people; no figure is wrong, the statement is.

    The names of ``body`` that some article names are split in two: the question's (in ``asked``, its folded words,
    capitalised or not) and the added ones. ``body`` is joined, and its added names returned, when both are there and
    no article holds all the added names with one of the question's. A quotation of the passages is never joined."""
    if not asked or not articles or _QUOTE.search(body):
        return ()
    raw: dict[str, frozenset[str]] = {}
    for m in re.finditer(r"(?<![\w'’])[A-ZÀ-Ý][\w\-]*|(?<=['’])[A-ZÀ-Ý][\w\-]*", body):
        parts = [w for w in _words(m.group(0)) if len(w) > 1 and w not in _OPENERS]
        if parts and any(all(w in named for w in parts) for _, named in articles):
            raw[m.group(0)] = frozenset(parts)
    theirs = {w for parts in raw.values() for w in parts if w in asked}
    added = {name: parts for name, parts in raw.items() if not parts & asked}
    if not theirs or not added:
        return ()
    wanted = frozenset().union(*added.values())
    if any(wanted <= words and theirs & words for words, _ in articles):
        return ()
    return tuple(added)


def _place(body: str, cited: Sequence[int]) -> str:
    """The sentence with its markers before its final punctuation: "… in 2016 [1]."."""
    if not cited:
        return body
    marks = "".join(f"[{n}]" for n in cited)
    m = re.search(r"[.!?…:;]+[»”\"')]*$", body)
    if m:
        return f"{body[: m.start()].rstrip()} {marks}{body[m.start():]}"
    return f"{body} {marks}"


def _before_end(sentence: str, note: str) -> str:
    """``note`` put before the sentence's final punctuation: "… 12 billion (not found in the sources)."."""
    m = re.search(r"[.!?…]+[»”\"')]*(?:\s*\[\d{1,3}\])*$", sentence)  # markers after the full stop stay after it
    return f"{sentence[: m.start()].rstrip()} {note}{sentence[m.start():]}" if m else f"{sentence} {note}"


def best_sentence(claims: str | Sequence[str], passage_text: str) -> str:
    """The sentence of ``passage_text`` that best supports ``claims`` (the quote shown under a source), each claim
    scored alone: an answer's figure and the quoted evidence's are rarely in one sentence."""
    claims = [claims] if isinstance(claims, str) else list(claims)
    sentences = split_sentences(passage_text) or [passage_text]
    feats = [passage_features(0, s) for s in sentences]
    scored = [(sum(support(c, f) for c in claims), -i, s) for i, (s, f) in enumerate(zip(sentences, feats))]
    return max(scored)[2]
