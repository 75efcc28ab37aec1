"""The final answer: citations attributed, figures checked, and replies in another language turned into newsbot's abstention."""

from __future__ import annotations

from bot.core.checking import answer_language, check, is_abstention
from bot.core.events import Cancel, Done, Source, Token
from bot.core.prompting import Templates

TEMPLATES = Templates.load()
SOURCES = [
    Source(1, "d1", "Meta et Scale AI", "c1", "Fondée en 2016 par Alexandr Wang, Scale AI étiquette des données. Elle emploie des milliers de contractuels.", 0.9, 0, 100),
    Source(2, "d2", "Terres rares", "c2", "Le 7 juin 2025, Trump et Xi Jinping ont convenu de reprendre les exportations de terres rares.", 0.5, 0, 90),
]


def test_an_english_reply_to_a_french_question_gives_way_to_the_passages_words_introduced_in_french() -> None:
    out = check("Qui a fondé Scale AI ?", "The company was founded by Alexandr Wang in 2016 [1].", SOURCES, TEMPLATES)
    assert not out.abstained and out.answer.startswith("D’après les articles : « Fondée en 2016 par Alexandr Wang")
    assert "[1]" in out.answer and "n'a pas pu être vérifiée" in out.answer and [s.n for s in out.sources][0] == 1
    assert answer_language(out.answer) == "fr"


def test_without_quoting_a_reply_in_the_other_language_becomes_the_abstention_naming_the_articles() -> None:
    out = check("Qui a fondé Scale AI ?", "The company was founded by Alexandr Wang in 2016 [1].", SOURCES, TEMPLATES, quote=False)
    assert out.abstained and out.sources == []
    assert out.answer.startswith("Les articles ne le disent pas.") and "« Meta et Scale AI »" in out.answer


def test_a_model_abstention_becomes_newsbots_in_the_questions_language() -> None:
    out = check("Who founded Scale AI?", "Les articles ne le disent pas.", SOURCES, TEMPLATES)
    assert out.abstained and out.answer.startswith("The articles do not say.") and "“Terres rares”" in out.answer
    assert is_abstention("The passages don't mention it.") and is_abstention("Le texte ne précise pas la date.")
    assert not is_abstention("Scale AI was founded in 2016 [1].")


def test_a_cross_language_answer_quoting_the_french_passage_is_kept() -> None:
    text = "From the articles: “Fondée en 2016 par Alexandr Wang, Scale AI étiquette des données.” [1]"
    assert answer_language(text) is None or answer_language(text) == "en"
    out = check("Who founded Scale AI?", text, SOURCES, TEMPLATES)
    assert not out.abstained and out.answer == text


def test_sources_are_the_cited_passages_in_citation_order_with_their_supporting_sentence() -> None:
    out = check("Que s'est-il passé ?", "Le 7 juin 2025, Trump et Xi Jinping ont conclu un accord [2]. Scale AI a été fondée en 2016 [2].", SOURCES, TEMPLATES)
    assert [s.n for s in out.sources] == [2, 1]
    assert out.answer == "Le 7 juin 2025, Trump et Xi Jinping ont conclu un accord [2]. Scale AI a été fondée en 2016 [1]."
    assert out.sources[1].quote.startswith("Fondée en 2016")


def test_an_unsupported_figure_is_reported_and_not_shown() -> None:
    out = check("Combien de contractuels ?", "Scale AI emploie 5 000 contractuels [1]. Elle a été fondée en 2016 par Alexandr Wang [1].", SOURCES, TEMPLATES)
    assert out.unsupported == ["Scale AI emploie 5 000 contractuels."]
    assert "5 000" not in out.answer and out.answer == "Elle a été fondée en 2016 par Alexandr Wang [1]."
    assert check("How many?", "It employs 5,000 people.", SOURCES, TEMPLATES, quote=False).abstained  # nothing left to say


def test_a_statement_whose_every_figure_is_unsupported_gives_way_to_the_passage_sentence_quoted() -> None:
    out = check("Combien de contractuels Scale AI emploie-t-elle ?", "Scale AI emploie 5 000 contractuels [1].", SOURCES, TEMPLATES)
    assert out.unsupported == ["Scale AI emploie 5 000 contractuels."] and not out.abstained
    assert "5 000" not in out.answer and out.answer.startswith("D’après les articles : «")
    assert "« Elle emploie des milliers de contractuels. » [1]" in out.answer and "pas pu être vérifiée" in out.answer
    assert [s.n for s in out.sources] == [1]


def test_nothing_to_quote_or_the_models_own_abstention_still_abstains() -> None:
    assert check("Who founded Scale AI?", "Scale AI was founded in 2016 [1].", [], TEMPLATES).abstained
    out = check("Combien de salariés ?", "Les articles ne le disent pas.", SOURCES, TEMPLATES)
    assert out.abstained and out.answer.startswith("Les articles ne le disent pas. Les articles les plus proches")


def test_ask_json_reports_the_unsupported_sentences(answerer, fake_generator) -> None:
    fake_generator.enqueue("Meta investira 12 milliards de dollars dans Scale AI [1]. Scale AI a été fondée en 2016 par Alexandr Wang [1].")
    done = list(answerer.answer_sync("Combien Meta va-t-il investir dans Scale AI ?"))[-1]
    assert isinstance(done, Done)
    assert done.as_dict()["unsupported"] == ["Meta investira 12 milliards de dollars dans Scale AI."]
    assert "12 milliards" not in done.answer and "2016" in done.sources[0].quote
    # The sentence that answers follows, with the amount the model got wrong, cited.
    assert "plus de 10 milliards de dollars" in done.evidence and done.answer.endswith(done.evidence)
    assert done.as_dict()["evidence"] == done.evidence and "10 milliards" in done.sources[-1].quote


def test_a_models_wrong_amount_gives_way_to_the_seed_passage_that_holds_the_right_one(answerer, fake_generator) -> None:
    # The stand-in model's own mistake: Meta's AI budget for the year given as its Scale AI investment.
    fake_generator.enqueue("Meta prévoit d'investir plus de 65 milliards de dollars dans Scale AI cette année. [1]")
    done = list(answerer.answer_sync("Combien Meta va-t-il investir dans Scale AI ?"))[-1]
    assert isinstance(done, Done) and not done.abstained
    assert done.unsupported == ["Meta prévoit d'investir plus de 65 milliards de dollars dans Scale AI cette année."]
    # The sentence the wrong statement is about comes first: it gives the right amount.
    assert done.answer.startswith("D’après les articles : « Meta Platforms") and "plus de 10 milliards de dollars" in done.answer.split("»")[0]
    assert "pas pu être vérifiée" in done.answer and done.sources and "10 milliards" in " ".join(s.quote for s in done.sources)


def test_a_generator_whose_answers_are_quotes_already_is_not_quoted_again(answerer, fake_generator) -> None:
    fake_generator.quotes = True  # as the extractive answerer declares
    fake_generator.enqueue("The company was founded by Alexandr Wang in 2016 [1].")
    done = list(answerer.answer_sync("Qui a fondé Scale AI ?"))[-1]
    assert done.abstained and done.answer.startswith("Les articles ne le disent pas.")
    fake_generator.quotes = False
    fake_generator.enqueue("The company was founded by Alexandr Wang in 2016 [1].")
    done = list(answerer.answer_sync("Qui a fondé Scale AI ?"))[-1]
    assert not done.abstained and done.answer.startswith("D’après les articles : «")


def test_a_trailing_abstention_after_a_cited_fact_is_dropped_and_the_fact_kept() -> None:
    out = check("Who founded Scale AI?", "Scale AI was founded in 2016 by Alexandr Wang [1]. The articles do not say more.", SOURCES, TEMPLATES,
                evidence=False)
    assert not out.abstained and out.answer == "Scale AI was founded in 2016 by Alexandr Wang [1]."


def test_a_sentence_that_only_points_at_the_passage_goes_and_its_fact_is_cited() -> None:
    out = check("Qui a fondé Scale AI ?", "Scale AI a été fondée par Alexandr Wang. This is stated in the passage [1].", SOURCES, TEMPLATES,
                evidence=False)
    assert not out.abstained and out.answer == "Scale AI a été fondée par Alexandr Wang [1]."
    kept = check("Who founded it?", "It is written in the passage that Alexandr Wang founded Scale AI in 2016 [1].", SOURCES, TEMPLATES)
    assert "Alexandr Wang founded Scale AI in 2016 [1]" in kept.answer  # a sentence with a fact of its own stays


def test_a_cited_sentence_that_also_reads_as_an_abstention_is_kept_rather_than_leaving_nothing() -> None:
    text = "The articles do not say when, but Scale AI was founded in 2016 by Alexandr Wang [1]."
    out = check("Who founded Scale AI?", text, SOURCES, TEMPLATES, evidence=False)
    assert not out.abstained and out.answer == text


def test_an_answer_that_only_points_at_a_passage_gives_way_to_its_words() -> None:
    out = check("Qui a fondé Scale AI ?", "This information is stated in passage [1].", SOURCES, TEMPLATES)
    assert not out.abstained and out.answer.startswith("D’après les articles : «") and "Alexandr Wang" in out.answer
    tail = check("Qui a fondé Scale AI ?", "Scale AI a été fondée par Alexandr Wang [1]. This is stated in passage at the end.", SOURCES, TEMPLATES,
                 evidence=False)
    assert tail.answer == "Scale AI a été fondée par Alexandr Wang [1]."


def test_an_off_topic_answer_in_the_wrong_language_abstains_rather_than_quote_an_unrelated_sentence() -> None:
    from bot.core.quoting import extract_answer
    from tests.fakes import FakeEmbedder

    question = "Quelle est la capitale du Canada ?"
    passages = [(s.n, s.text) for s in SOURCES]
    # The encoder ranks some sentence first for any question: the offline answerer quotes it as its best guess ...
    assert extract_answer(question, passages, FakeEmbedder()).startswith("D’après les articles")
    # ... but in place of a model's failed answer a sentence sharing no word with the question is not quoted.
    assert extract_answer(question, passages, FakeEmbedder(), strict=True) == "Les articles ne le disent pas."
    out = check(question, "The capital of Canada is Ottawa. [2]", SOURCES, TEMPLATES, embedder=FakeEmbedder())
    assert out.abstained and out.answer.startswith("Les articles ne le disent pas.") and out.sources == []


def test_a_pointer_left_alone_once_the_unsupported_sentence_is_removed_gives_way_to_the_passages() -> None:
    text = "Scale AI emploie 5 000 personnes. This information is directly stated in the passage [1]."
    out = check("Combien de personnes Scale AI emploie-t-elle ?", text, SOURCES, TEMPLATES)
    assert not out.abstained and out.answer.startswith("D’après les articles : « ") and "directly stated" not in out.answer
    assert out.unsupported == ["Scale AI emploie 5 000 personnes."] and "5 000" not in out.answer and "[1]" in out.answer


def test_an_answer_no_passage_supports_gives_way_to_the_sentence_that_answers() -> None:
    # The stand-in's "land resources" for the rare earths: a fact stated, cited by nothing once attributed.
    text = "The talks are about land resources."
    question = "What did Trump and Xi Jinping agree to resume?"
    out = check(question, text, SOURCES, TEMPLATES)
    assert not out.abstained and "land resources" not in out.answer and "terres rares" in out.answer
    assert "[2]" in out.answer and [s.n for s in out.sources] == [2]
    kept = check(question, text, SOURCES, TEMPLATES, uncited=False, evidence=False)  # as a cancelled answer: the words stay
    assert kept.answer == text and kept.sources == [] and not kept.abstained


def test_an_uncited_answer_stays_when_no_passage_sentence_answers_either() -> None:
    text = "Il faut attendre la suite des négociations."
    out = check("Quelle est la capitale du Canada ?", text, SOURCES, TEMPLATES)
    assert out.answer == text and out.sources == [] and not out.abstained


def test_a_cancelled_answer_keeps_its_streamed_words(answerer, fake_generator) -> None:
    fake_generator.delay_s = 0.01
    fake_generator.enqueue(" ".join(f"mot{i}" for i in range(200)))
    cancel, streamed, done = Cancel(), [], None
    for event in answerer.answer_sync("Combien Meta va-t-il investir dans Scale AI ?", cancel=cancel):
        if isinstance(event, Token):
            streamed.append(event.text)
            if len(streamed) == 5:
                cancel.set()
        if isinstance(event, Done):
            done = event
    assert done.cancelled and done.answer.startswith("mot0 mot1") and "D’après les articles" not in done.answer
    fake_generator.delay_s = 0
    fake_generator.enqueue(" ".join(f"mot{i}" for i in range(5)))
    done = list(answerer.answer_sync("Combien Meta va-t-il investir dans Scale AI ?"))[-1]
    assert not done.cancelled and done.answer.startswith("D’après les articles : «") and "10 milliards" in done.answer


def test_a_sentence_in_the_other_language_is_dropped_from_an_answer_in_the_askers() -> None:
    # The stand-in's habit on PIAF: a French answer, then an English sentence about where it is stated.
    text = "Scale AI a été fondée en 2016 par Alexandr Wang. This is stated in the passage [1] about the founding of the company."
    out = check("Qui a fondé Scale AI ?", text, SOURCES, TEMPLATES, evidence=False)
    assert out.answer == "Scale AI a été fondée en 2016 par Alexandr Wang [1]." and not out.abstained
    assert [s.n for s in out.sources] == [1] and answer_language(out.answer) == "fr"
    # All in the other language: the whole reply still gives way to the passages' words, in the asker's language.
    english = check("Qui a fondé Scale AI ?", "Scale AI was founded by Alexandr Wang in 2016. It labels data for AI.", SOURCES, TEMPLATES)
    assert english.answer.startswith("D’après les articles : « Fondée en 2016")


def test_an_answer_is_followed_by_the_passage_sentence_that_answers_quoted_and_cited() -> None:
    # The stand-in's PIAF habit: the right sentence, the wrong name. The reader sees the sentence under the answer.
    out = check("Qui a fondé Scale AI ?", "Scale AI a été fondée par Jeff Bezos.", SOURCES, TEMPLATES)
    assert out.evidence == "D’après les articles : « Fondée en 2016 par Alexandr Wang, Scale AI étiquette des données. » [1]"
    assert out.answer.endswith("\n\n" + out.evidence) and [s.n for s in out.sources] == [1]
    assert out.sources[0].quote.startswith("Fondée en 2016 par Alexandr Wang")
    # English question, French passage: the French sentence quoted after "From the articles:", the answer stays English.
    english = check("Who founded Scale AI?", "Scale AI was founded in 2016 by Alexandr Wang [1].", SOURCES, TEMPLATES)
    assert english.answer.startswith("Scale AI was founded in 2016 by Alexandr Wang [1].\n\nFrom the articles: “Fondée en 2016")
    assert answer_language(english.answer) == "en"


def test_no_evidence_when_the_answer_already_says_the_sentence_or_when_turned_off() -> None:
    copied = "Fondée en 2016 par Alexandr Wang, Scale AI étiquette des données [1]."
    assert check("Qui a fondé Scale AI ?", copied, SOURCES, TEMPLATES).evidence == ""
    off = check("Qui a fondé Scale AI ?", "Scale AI a été fondée par Alexandr Wang [1].", SOURCES, TEMPLATES, evidence=False)
    assert off.evidence == "" and off.answer == "Scale AI a été fondée par Alexandr Wang [1]."
    # An answer already replaced by the quotation is not followed by it again.
    quoted = check("Qui a fondé Scale AI ?", "The company was founded by Alexandr Wang in 2016 [1].", SOURCES, TEMPLATES)
    assert quoted.evidence == "" and quoted.answer.count("Fondée en 2016") == 1


def test_the_evidence_quotes_a_close_second_only_when_it_shares_a_word_with_the_question() -> None:
    from bot.core.quoting import evidence

    passages = [(s.n, s.text) for s in SOURCES]
    # "Trump et Xi Jinping …" scores as a close second (names, for a "qui" question) but shares no word with it.
    assert evidence("Qui a fondé Scale AI ?", "Jeff Bezos.", passages).count("»") == 1
    two = evidence("Combien de contractuels Scale AI emploie-t-elle ?", "Beaucoup.", passages)
    assert "« Elle emploie des milliers de contractuels. » [1]" in two


RIO = [
    Source(1, "d1", "Jeux olympiques d'été de 2016", "c1", "En football, le Brésil remporte son premier titre. Le Brésil accueille les Jeux à Rio.", 0.9, 0, 80),
    Source(2, "d1", "Jeux olympiques d'été de 2016", "c2", "En tir, Kimberly Rhode gagne sa sixième médaille. "
           "Les États-Unis terminent en tête du tableau des médailles avec 121 podiums dont 46 médailles d'or.", 0.8, 80, 200),
]


def test_figures_given_to_the_wrong_subject_give_way_to_the_sentence_that_holds_them() -> None:
    question = "Qui a gagné le plus de médailles olympiques aux JO de 2016 ?"
    alone = check(question, "Le Brésil a gagné le plus de médailles, avec 121 podiums dont 46 médailles d'or [2].", RIO, TEMPLATES)
    assert "Brésil a gagné" not in alone.answer and not alone.abstained
    assert alone.answer.startswith("D’après les articles : « Les États-Unis terminent en tête du tableau des médailles avec 121 podiums")
    assert alone.unsupported == ["Le Brésil a gagné le plus de médailles, avec 121 podiums dont 46 médailles d'or."]
    # Beside a sentence that stands, the misnamed one goes and its figures' sentence is the first evidence.
    text = "Le Brésil accueille les Jeux à Rio [1]. Le Brésil a gagné le plus de médailles, avec 121 podiums [2]."
    both = check(question, text, RIO, TEMPLATES)
    assert both.answer.startswith("Le Brésil accueille les Jeux à Rio [1].\n\nD’après les articles : « Les États-Unis terminent")



HOGWARTS = [
    Source(1, "d1", "Albus Dumbledore", "c1", "Albus Dumbledore est le directeur de Poudlard. Son père Perceval Dumbledore fut envoyé à Azkaban.", 0.9, 0, 90),
    Source(2, "d2", "Elphias Doge", "c2", "Elphias Doge est un ami d'enfance. Doge écrit la nécrologie du directeur dans la Gazette.", 0.6, 0, 80),
]


def test_an_answer_joining_names_of_two_articles_gives_way_to_the_passages_words() -> None:
    question = "Qui est le père d'Albus Dumbledore ?"
    out = check(question, "Le père d'Albus Dumbledore est Elphias Doge [2].", HOGWARTS, TEMPLATES)
    assert out.unsupported == ["Le père d'Albus Dumbledore est Elphias Doge."] and not out.abstained
    assert out.answer.startswith("D’après les articles : « Son père Perceval Dumbledore fut envoyé à Azkaban. » [1]")
    assert "Elphias" not in out.answer
    assert [s.n for s in out.sources][0] == 1
    # The same answer about the article's own people stands.
    kept = check(question, "Le père d'Albus Dumbledore est Perceval Dumbledore [1].", HOGWARTS, TEMPLATES)
    assert kept.unsupported == [] and kept.answer.startswith("Le père d'Albus Dumbledore est Perceval Dumbledore [1].")


BUDGET = [
    Source(1, "d1", "Meta et l'IA", "c1", "Le groupe prévoit de dépenser jusqu’à 65 milliards de dollars dans des projets liés à l’IA cette année.", 0.9, 0, 100),
    Source(2, "d2", "Meta et Scale AI", "c2", "Meta Platforms est en pourparlers avancés pour investir plus de 10 milliards de dollars dans Scale AI.", 0.8, 0, 100),
]


def test_a_misplaced_figure_gives_way_first_to_the_sentence_its_statement_is_about() -> None:
    # The stand-in's answer to the headline question: the year's AI budget given as the Scale AI investment. The
    # budget sentence shares "prévoit" with the question and ranks first; the Scale AI one gives the right amount.
    out = check("Combien Meta prévoit-il d'investir dans Scale AI ?",
                "Meta prévoit d'investir jusqu'à 65 milliards de dollars dans Scale AI cette année. [1]", BUDGET, TEMPLATES)
    assert out.unsupported == ["Meta prévoit d'investir jusqu'à 65 milliards de dollars dans Scale AI cette année."]
    assert out.answer.startswith("D’après les articles : « Meta Platforms est en pourparlers avancés pour investir plus de 10 milliards")
    assert [s.n for s in out.sources][0] == 2
