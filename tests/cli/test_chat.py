"""The chat loop in process: stdin in, the whole transcript out, with the fake embedder, store and generator."""

from __future__ import annotations

import io

from bot.cli.chat import chat
from bot.resources import seeds_dir
from tests.fakes import FakeGenerator

TITLE = "Meta prépare un investissement record de plus de 10 milliards de dollars dans Scale AI : Vers une nouvelle ère de l’intelligence artificielle ?"
TRANSCRIPT = """\
First run: indexing the seed articles in {seeds} …
3 articles, 9 passages.
newsbot — 3 articles, 9 passages, model fake-model.gguf. /help for help.
> Combien Meta investit-il dans Scale AI ?
Plus de 10 milliards de dollars [1] [7].

Réponse vérifiée:
Plus de 10 milliards de dollars [1].

D’après les articles : « Meta Platforms, la maison-mère de Facebook et Instagram, est en pourparlers avancés pour investir plus de 10 milliards de dollars dans Scale AI, une startup spécialisée dans l’intelligence artificielle. » [1]

Sources:
  [1] {title} — meta-scale-ai-investissement.txt · 10 juin 2025
      “Meta Platforms, la maison-mère de Facebook et Instagram, est en pourparlers avancés
      pour investir plus de 10 milliards de dollars dans Scale AI, une startup …”
> /sources

Sources:
  [1] {title} — meta-scale-ai-investissement.txt · 10 juin 2025
      “Meta Platforms, la maison-mère de Facebook et Instagram, est en pourparlers avancés
      pour investir plus de 10 milliards de dollars dans Scale AI, une startup …”
> et quand ?
En 2016 [1].

Sources:
  [1] {title} — meta-scale-ai-investissement.txt · 10 juin 2025
      “Fondée en 2016 par Alexandr Wang, Scale AI s’est imposée comme un acteur incontournable
      de la révolution de l’IA générative.”
> /reset
Conversation forgotten.
> /nope
Unknown command /nope; /help lists the commands.
> 
> /quit
"""


def test_a_session_transcript(settings, fake_index):
    settings = settings.model_copy(update={"abstain_threshold": 0.0, "top_k": 1})  # the fake embedder scores low: never abstain
    generator = FakeGenerator()
    generator.enqueue("Plus de 10 milliards de dollars [1] [7].", "En 2016 [1].")
    stdin = io.StringIO("Combien Meta investit-il dans Scale AI ?\n/sources\net quand ?\n/reset\n/nope\n\n/quit\nnever read\n")
    out = io.StringIO()
    assert chat(settings, fake_index, lambda: generator, stdin, out) == 0
    # The seed article's date line (10 juin 2025) is the date its sources show.
    assert out.getvalue() == TRANSCRIPT.format(seeds=seeds_dir(), title=TITLE)
    # The follow-up was asked with the first turn (its answer cleaned of the marker [7]) and searched with it.
    assert generator.history[1][1:3] == [
        {"role": "user", "content": "Combien Meta investit-il dans Scale AI ?"},
        {"role": "assistant", "content": "Plus de 10 milliards de dollars [1]."},
    ]
    assert len(generator.history) == 2 and stdin.readline() == "never read\n"
