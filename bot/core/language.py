"""A tiny French/English guesser for choosing the language of fixed replies (the model itself follows the question)."""

from __future__ import annotations

import re

_FR = set(
    "le la les un une des du de et est sont pour dans que qui quoi quel quelle quels quelles combien pourquoi comment "
    "où ou avec sur par pas ne il elle ils elles nous vous on ce cette ces son sa ses leur leurs au aux a-t-il "
    "est-ce qu quand fait été avoir être selon "
    # prepositions, conjunctions, adverbs and common verb forms that English never writes as words
    "depuis avant après entre chez sans sous vers contre pendant mais donc aussi très encore déjà lors dont "
    "comme cela ça ont était étaient sera seront peut doit existe existent en environ notamment".split()
)
_EN = set(
    "the a an and is are was were for in of to that which what who whom whose how why when where with on by not "
    "does do did it they we you this these those its their has have had will would much many according "
    # the same for English: words French never writes
    "from at be been being but if than then there also into about after before since between during without "
    "can could should may might more most only over such up out exists existed around".split()
)


def detect(text: str) -> str:
    """'fr' or 'en': French when French function words or accents outweigh English ones (ties go to English)."""
    words = re.findall(r"[a-zàâäçéèêëîïôöùûüÿœæ]+", text.lower().replace("’", "'"))
    fr = sum(w in _FR for w in words) + 2 * len(re.findall(r"[àâçéèêëîïôùûœ]", text.lower()))
    en = sum(w in _EN for w in words)
    return "fr" if fr > en else "en"


def confident(text: str, margin: int = 2) -> str | None:
    """'fr' or 'en' when one language's function words and accents lead by ``margin``; None for short or mixed text."""
    words = re.findall(r"[a-zàâäçéèêëîïôöùûüÿœæ]+", text.lower().replace("’", "'"))
    fr = sum(w in _FR for w in words) + 2 * len(re.findall(r"[àâçéèêëîïôùûœ]", text.lower()))
    en = sum(w in _EN for w in words)
    if abs(fr - en) < margin:
        return None
    return "fr" if fr > en else "en"
