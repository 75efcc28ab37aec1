"""The answer a reader can check: citations attributed, figures verified, and the asker's language, at the end of generation.

``check`` is the one post-processing step between the model's finished text and the final ``Done``: tokens have
already streamed; the final message carries what this returns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Sequence

from bot.core import language, quoting
from bot.core.attribution import MARKER, Attributed, attribute, best_sentence, split_sentences
from bot.core.events import Source
from bot.core.ports import Embedder
from bot.core.prompting import Templates
from bot.core.quoting import INSTEAD_NOTE, extract_answer

# "mark" keeps a sentence with an unsupported figure, flagged; "remove" drops it (docs/answers.md: chosen by measurement).
UNSUPPORTED = "remove"
NOTE = {"fr": "(absent des sources)", "en": "(not found in the sources)"}
# What small models write when the passages do not hold the answer, in either language.
_ABSTAIN = re.compile(
    r"\b(?:(?:the )?(?:articles?|passages?|sources?|texts?|context) (?:do(?:es)?n[o’']t|do(?:es)? not|did not|didn[’']t) "
    r"(?:say|mention|specify|state|contain|provide|give)|not (?:mentioned|stated|specified|found) in the (?:articles?|passages?|sources?)"
    r"|(?:there is |i have )?no (?:information|mention|answer)|i (?:do not|don[’']t) know|cannot (?:be )?(?:answer|determine)"
    r"|ne (?:le |l[’'])?(?:disent|dit|précisent|précise|mentionnent|mentionne|indiquent|indique) pas|aucune (?:information|mention)"
    r"|je ne sais pas|n[’'](?:est|y a) pas (?:mentionné|précisé|indiqué|d[’']information))",
    re.IGNORECASE,
)
# A sentence that only says where the answer is ("This is stated in the passage [1].", "Ceci est indiqué dans [2].").
_POINTER = re.compile(
    r"^\W*(?:this|it|that|ceci|cela|c[’']est)(?:\s+(?:information|answer|info|réponse))?\s+(?:is\s+|was\s+|est\s+|a\s+été\s+)?(?:(?:clearly|directly|explicitly|also|clairement|directement|explicitement|aussi)\s+)?"
    r"(?:stated|mentioned|written|said|given|indicated|explained|found|indiqué|mentionné|précisé|écrit|dit|expliqué)\s+(?:in|by|dans|par)"
    r"(?:\s+|,|(?:the|passages?|articles?|sources?|texts?|extraits?|le|la|les|l[’']|textes?|and|et|both|above|below|at|end|"
    r"ci-dessus|à|fin)\b)*[.!]?\W*$",
    re.IGNORECASE,
)
QUOTED = re.compile(r"«[^»]*»|“[^”]*”|\"[^\"]*\"")


@dataclass(frozen=True)
class Checked:
    """The final answer: its text, the sources it cites (in citation order, each with its supporting sentence)."""

    answer: str
    sources: list[Source]
    unsupported: list[str]
    abstained: bool
    attributed: Attributed | None = None
    evidence: str = ""  # the passages' sentences quoted after the model's answer, the end of ``answer`` (quoting.evidence)


def is_abstention(text: str) -> bool:
    """Whether the model said the passages do not answer (in French or English)."""
    return bool(_ABSTAIN.search(MARKER.sub("", text)))


def without_pointers(text: str) -> str:
    """``text`` without its sentences that only say where the answer is: their markers are placed again by attribution,
    and an English "This is stated in the passage" in a French answer is not the answer's language. An answer that is
    nothing else says nothing: the passages are quoted instead (``check``)."""
    sentences = split_sentences(text)
    kept = [s for s in sentences if not _POINTER.match(MARKER.sub("", s))]
    return " ".join(kept) if len(kept) < len(sentences) else text


def without_foreign(text: str, lang: str) -> str:
    """``text`` without its sentences in the other language than ``lang``, when some of its sentences are in ``lang``:
    the stand-in follows a French answer with "This is stated in the passage [1] about the exodus of Grecs from
    Corse.", and the whole answer, read as mixed, gave way to a quotation. An answer in the other language only is
    left whole (``check`` replaces it)."""
    sentences = split_sentences(text)
    said = [answer_language(s) for s in sentences]
    if lang not in said or all(l in (lang, None) for l in said):
        return text
    return " ".join(s for s, l in zip(sentences, said) if l in (lang, None))


def answer_language(text: str) -> str | None:
    """The language of the answer's own words (quotations of the passages left out), or None when unclear."""
    return language.confident(QUOTED.sub(" ", MARKER.sub("", text)))


def abstention(templates: Templates, lang: str, titles: Sequence[str]) -> str:
    """newsbot's own abstention in ``lang``, naming the closest articles."""
    titles = list(dict.fromkeys(titles))[:3]
    if not titles:
        return templates.abstain_empty[lang]
    return templates.abstain[lang].format(titles="; ".join(f"« {t} »" if lang == "fr" else f"“{t}”" for t in titles))


def check(
    question: str, text: str, sources: Sequence[Source], templates: Templates, policy: str = UNSUPPORTED,
    embedder: Embedder | None = None, quote: bool = True, uncited: bool = True, evidence: bool = True,
) -> Checked:
    """Attribute, verify and language-check ``text``.

    A reply in the wrong language, or a statement none of whose sentences the passages support, gives way to the
    passages' own best sentences, quoted (``quote``; bot.core.quoting, with ``embedder`` across languages); the
    model's own "the articles do not say", or nothing left to quote, becomes newsbot's abstention. With ``uncited``,
    an answer none of whose sentences a passage supports is quoted instead too, when the passages hold a sentence
    that answers; it stays as written otherwise (a cancelled answer passes False: its streamed words are kept).
    With ``evidence`` (and ``quote``), an answer that stands is followed by the passages' sentences that best answer
    the question, quoted and cited, unless it already says them (bot.core.quoting.evidence).
    """
    lang = language.detect(question)
    titles = [s.title for s in sources]
    text = without_foreign(without_pointers(text), lang)
    attributed = attribute(text, [(s.n, s.text) for s in sources], {s.n: s.title for s in sources}, question)
    # A pointer left alone once the unsupported sentences are gone ("This information is directly stated in the
    # passage [2].") says nothing: the answer is then empty and the passages are quoted instead.
    final = without_pointers(attributed.text(policy, NOTE[lang]))
    stated = [s for s in attributed.sentences if s.cited]
    holders = list(dict.fromkeys(h for s in attributed.sentences for h in s.holders))  # what sets flagged ones right
    wrong_language = (said := answer_language(text)) is not None and said != lang
    model_abstained = is_abstention(text)
    failed = not final or wrong_language or (model_abstained and not stated)
    if failed or (uncited and not stated and not model_abstained):
        if quote and sources and not (model_abstained and not stated):
            quoted = extract_answer(question, [(s.n, s.text) for s in sources], embedder, INSTEAD_NOTE, strict=True, first=holders)
            instead = check(question, quoted, sources, templates, policy, quote=False)
            if not instead.abstained:
                return replace(instead, unsupported=attributed.flagged, attributed=attributed)
        if failed:
            return Checked(abstention(templates, lang, titles), [], attributed.flagged, True, attributed)
    if model_abstained:  # "Meta backed Scale AI [1]. The articles do not say.": the facts stay, the contradiction goes
        final = " ".join(s for s in split_sentences(final) if not is_abstention(s)) or final
    passages = [(s.n, s.text) for s in sources]
    quoted = quoting.evidence(question, final, passages, embedder, holders) if evidence and quote else None
    said = list(attributed.sentences)
    order = list(attributed.cited)
    if quoted:
        final = f"{final}\n\n{quoted}"
        said += (more := attribute(quoted, passages, {s.n: s.title for s in sources})).sentences
        order += [n for n in more.cited if n not in order]
    by_n = {s.n: s for s in sources}
    shown = []
    for n in order:
        claims = [s.text for s in said if n in s.cited]
        shown.append(replace(by_n[n], quote=best_sentence(claims, by_n[n].text)))
    return Checked(final, shown, attributed.flagged, False, attributed, quoted or "")
