"""The CLI's end of an answer: the checked answer when it differs from what streamed (or only its quoted evidence), then the cited sources' quotes."""

from __future__ import annotations

import io

from bot.cli.render import print_final
from bot.core.events import Done, Source

SOURCE = Source(1, "d", "Meta et Scale AI", "c", "Début du passage. Fondée en 2016 par Alexandr Wang.", 0.9, 0, 50, quote="Fondée en 2016 par Alexandr Wang.")


def _out(done: Done, streamed: str) -> str:
    out = io.StringIO()
    print_final(done, streamed, out)
    return out.getvalue()


def test_a_corrected_answer_is_printed_after_the_stream_with_the_supporting_quote() -> None:
    done = Done("Qui a fondé Scale AI ?", "Alexandr Wang l'a fondée en 2016 [1].", [SOURCE], abstained=False)
    text = _out(done, "Alexandr Wang l'a fondée en 2016 [2].")
    assert "Réponse vérifiée:\nAlexandr Wang l'a fondée en 2016 [1]." in text
    assert "“Fondée en 2016 par Alexandr Wang.”" in text and "Début du passage" not in text


def test_an_unchanged_answer_is_not_repeated_and_an_unstreamed_one_is_printed() -> None:
    done = Done("Who founded Scale AI?", "Alexandr Wang [1].", [SOURCE], abstained=False)
    assert "Checked" not in _out(done, "Alexandr Wang [1].") and "Alexandr Wang [1]." not in _out(done, "Alexandr Wang [1].")
    abstained = Done("Who won?", "The articles do not say.", [], abstained=True)
    assert _out(abstained, "").startswith("The articles do not say.")


def test_when_only_the_evidence_was_added_it_alone_follows_the_stream() -> None:
    evidence = "D’après les articles : « Fondée en 2016 par Alexandr Wang. » [1]"
    done = Done("Qui a fondé Scale AI ?", f"Jeff Bezos [1].\n\n{evidence}", [SOURCE], abstained=False, evidence=evidence)
    assert done.said == "Jeff Bezos [1]."
    text = _out(done, "Jeff Bezos [1].")
    assert text.startswith(f"\n\n{evidence}\n") and "Réponse vérifiée" not in text and "Jeff Bezos" not in text
