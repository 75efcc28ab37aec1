"""Text in articles aimed at the model ("ignore previous instructions", "tu es maintenant…"): reported at ingestion.

Articles are untrusted data, and this detector is a report, not a defence: a paraphrase or an instruction split
over two sentences gets past it, and news quotes people telling others to ignore rules (docs/reliability.md
measures both). So a sentence it finds is kept and only reported by ``newsbot ingest``. The defences are
elsewhere: clean_text strips invisible and look-alike characters, hidden HTML is dropped, every passage reaches
the model as a quotation it cannot close, under a system prompt that says so, and answers keep only the
sources' links. Two kinds of finding are reported:

- an *instruction* addressed to a language model (ignore/disregard/forget the previous instructions, "you are now…",
  "reply only …");
- a *mention* (an article that talks about "system prompts").

Only chat-template control tokens (``<|im_start|>``, ``[INST]``…) are removed, replaced by ``NEUTRALISED``: they are
markup of the prompt itself, never news text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from retrieval.textnorm import clean_text

NEUTRALISED = "[text addressed to an AI model removed]"

_PREV = r"(?:previous|prior|above|earlier|preceding|former|system|your|the|all|any)"
_INSTR = r"(?:instructions?|prompts?|rules|directives?)"
# Folded text: lower-case, accents removed, apostrophes straightened.
_INSTRUCTION_PATTERNS = [
    rf"\b(?:ignore|disregard|forget|override|bypass|skip)\b(?:\s+\w+){{0,3}}?\s+{_PREV}\b(?:\s+\w+){{0,2}}?\s+{_INSTR}\b",
    rf"\bdisregard\b(?:\s+\w+){{0,4}}\s+{_INSTR}\b",
    r"\byou\s+are\s+(?:now|no\s+longer)\b",
    r"\bfrom\s+now\s+on,?\s+you\b",
    r"\bnew\s+(?:instructions|rules)\s*:",
    r"\b(?:reply|respond|output|print)\s+(?:only|just|exactly)\s+(?:with\s+)?\S",
    r"\breveal\b(?:\s+\w+){0,3}\s+(?:system\s+prompt|instructions)\b",
    # French: « ignore(z) les instructions précédentes », « oublie(z) tout », « tu es / vous êtes maintenant »
    r"\b(?:ignore|ignorez|ignorer|oublie|oubliez|oublier|neglige|negligez)\b(?:\s+\w+){0,3}?\s+(?:instructions?|consignes?|regles|directives)\b",
    r"\b(?:oublie|oubliez)\s+(?:tout|toutes?|ce\s+qui|ce\s+que|vos|tes|les)\b",
    r"\b(?:tu\s+es|vous\s+etes)\s+(?:maintenant|desormais|a\s+present)\b",
    r"\b(?:desormais|a\s+partir\s+de\s+maintenant),?\s+(?:tu|vous)\b",
    r"\b(?:reponds|repondez|ecris|ecrivez)\s+(?:uniquement|seulement|juste)\b",
    r"\bnouvelles\s+(?:instructions|consignes)\s*:",
]
# Chat-template control tokens pasted into an article: removed, not only reported.
_CONTROL = re.compile(
    r"<\|(?:im_start|im_end|system|user|assistant|eot_id|start_header_id|end_header_id|begin_of_text)\|?>"
    r"|\[/?(?:inst|sys)\]|<</?sys>>"
)
_MENTION_PATTERNS = [r"\bsystem\s+prompt\b", r"\bprompt\s+systeme\b", r"\binstructions?\s+systeme\b"]
_INSTRUCTION = re.compile("|".join(f"(?:{p})" for p in _INSTRUCTION_PATTERNS))
_MENTION = re.compile("|".join(f"(?:{p})" for p in _MENTION_PATTERNS))
# Sentences end at . ! ? … or a line break.
_SENTENCE = re.compile(r"[^\n.!?…]*(?:[.!?…]+[\"»”)]*|\n|$)")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})


@dataclass(frozen=True)
class Finding:
    """One suspicious sentence: ``neutralised`` when it was removed from the text (control tokens only)."""

    sentence: str
    neutralised: bool

    def excerpt(self, limit: int = 80) -> str:
        """The sentence on one line, cut to ``limit`` characters."""
        text = " ".join(self.sentence.split())
        return text if len(text) <= limit else text[: limit - 1] + "…"


def fold(text: str) -> str:
    """Lower-case text without accents, so that « Ignorez les instructions précédentes » matches once."""
    text = unicodedata.normalize("NFKD", text.casefold().translate(_APOSTROPHES))
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def scan(text: str) -> list[Finding]:
    """The suspicious sentences of ``text``, in order."""
    return neutralise(text)[1]


def neutralise(text: str) -> tuple[str, list[Finding]]:
    """``text`` cleaned (clean_text) with sentences carrying chat-template control tokens replaced by NEUTRALISED, and what was found.

    Cleaning first means that format characters, tag characters and look-alike letters can neither hide an
    instruction from the report nor reach the index. Instructions and mentions are kept in the text.
    """
    text = clean_text(text)
    out: list[str] = []
    findings: list[Finding] = []
    for match in _SENTENCE.finditer(text):
        sentence = match.group(0)
        if not sentence.strip():
            out.append(sentence)
            continue
        folded = fold(sentence)
        if _CONTROL.search(folded):
            findings.append(Finding(sentence.strip(), True))
            lead = sentence[: len(sentence) - len(sentence.lstrip())]
            tail = "\n" if sentence.endswith("\n") else ""
            out.append(f"{lead}{NEUTRALISED}{tail}")
            continue
        if _INSTRUCTION.search(folded) or _MENTION.search(folded):
            findings.append(Finding(sentence.strip(), False))
        out.append(sentence)
    return "".join(out), findings
