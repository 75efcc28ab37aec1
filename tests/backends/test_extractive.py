"""The extractive answerer: the passages' best sentences quoted and cited, read back from the real prompt."""

from __future__ import annotations

import threading

from bot.app import load_generator
from bot.backends.extractive import ExtractiveGenerator, extract_answer, parse_prompt
from bot.core import quoting
from bot.core.events import Done
from bot.core.ports import Usage
from bot.core.prompting import PromptPassage, Templates, build_messages
from bot.settings import Settings

PASSAGES = [
    (1, "Meta et Scale AI : une négociation\nMeta est en pourparlers pour investir plus de 10 milliards de dollars dans Scale AI. "
        "Selon Bloomberg et Reuters, ce serait la plus grande opération de Meta."),
    (2, "Fondée en 2016 par Alexandr Wang, Scale AI étiquette des données. Sa spécialité : l’étiquetage et le traitement massif de données."),
]


def test_the_prompt_is_read_back_into_question_and_passages() -> None:
    passages = [PromptPassage(n, f"Titre {n}", text) for n, text in PASSAGES]
    messages, _ = build_messages(Templates.load(), "Qui a fondé Scale AI ?", passages, [], lambda t: len(t.split()), 4000)
    question, parsed = parse_prompt(messages)
    assert question == "Qui a fondé Scale AI ?"
    assert parsed == PASSAGES


def test_the_best_sentence_is_quoted_with_its_marker_in_the_passages_words() -> None:
    fr = extract_answer("Qui a fondé Scale AI ?", PASSAGES)
    assert "« Fondée en 2016 par Alexandr Wang, Scale AI étiquette des données. » [2]" in fr
    assert fr.startswith("D’après les articles :") and "modèle de langue" in fr
    en = extract_answer("How much will Meta invest in Scale AI?", PASSAGES)
    assert "“Meta est en pourparlers pour investir plus de 10 milliards de dollars dans Scale AI.” [1]" in en
    assert en.startswith("From the articles:") and "language model" in en


def test_a_sentence_that_opens_on_a_pronoun_is_read_with_its_referent(monkeypatch) -> None:
    """"Il porte …" answers a question about Michael Phelps although only the sentence before names him; a pronoun far
    from the name, or in another passage, takes nothing from it."""
    phelps = [
        (1, "Le nageur américain Michael Phelps est l'athlète le plus médaillé de ces Jeux, avec cinq titres olympiques. "
            "Il porte à Rio son record à 23 titres olympiques et 28 médailles en tout."),
        (2, "Les Jeux ont eu lieu du 5 au 21 août 2016. Les États-Unis terminent en tête du tableau des médailles."),
    ]
    question = "Combien de titres olympiques Michael Phelps possède-t-il ?"
    assert quoting.rank(question, phelps)[0][2].startswith("Il porte à Rio")
    monkeypatch.setattr(quoting, "REFERENT_WINDOW", 0)  # without the referent, the sentence naming him wins
    assert quoting.rank(question, phelps)[0][2].startswith("Le nageur américain")
    monkeypatch.undo()
    asked = quoting.asked_names("Combien de titres Michael Phelps a-t-il ?")
    assert asked == {"michael", "phelp"}
    far = [(1, "Michael Phelps nage. La piscine est neuve. Le public applaudit. Il porte son record à 23 titres olympiques.")]
    assert quoting.referent(quoting.sentences_of(far), 3, asked) == set()
    other = [(1, "Michael Phelps nage."), (2, "Il porte son record à 23 titres olympiques.")]
    assert quoting.referent(quoting.sentences_of(other), 1, asked) == set()
    assert quoting.referent(quoting.sentences_of([(1, "Michael Phelps nage. Il porte son record à 23 titres.")]), 1, asked) == asked


def test_it_streams_like_a_model_and_stops_on_cancel() -> None:
    messages, _ = build_messages(Templates.load(), "Quelle est la spécialité de Scale AI ?", [PromptPassage(n, "T", t) for n, t in PASSAGES], [], len, 10**6)
    usage, gen = Usage(), ExtractiveGenerator()
    pieces = list(gen.stream(messages, 100, threading.Event(), usage))
    assert "l’étiquetage et le traitement massif de données" in "".join(pieces) and usage.completion_tokens == len(pieces) > 3
    cancel = threading.Event()
    cancel.set()
    assert list(gen.stream(messages, 100, cancel, Usage())) == []


def test_newsbot_model_extractive_selects_it(tmp_path) -> None:
    settings = Settings(data_dir=tmp_path, model="extractive", _env_file=None)
    generator = load_generator(settings, interactive=False)
    assert isinstance(generator, ExtractiveGenerator) and generator.quotes  # its quotes are never quoted again


def test_through_the_answer_path_the_quote_is_cited_and_checked(settings, fake_index) -> None:
    from tests.conftest import SEEDS, make_answerer

    fake_index.indexer.ingest([SEEDS])
    answerer = make_answerer(settings, fake_index.searcher, ExtractiveGenerator(), top_k=3, abstain_threshold=0.0)
    try:
        done = list(answerer.answer_sync("Combien Meta prévoit-il d'investir dans Scale AI ?"))[-1]
    finally:
        answerer.close()
    assert isinstance(done, Done) and not done.abstained and "10 milliards de dollars" in done.answer and done.unsupported == []
    assert done.sources and any("10 milliards" in s.quote for s in done.sources)
