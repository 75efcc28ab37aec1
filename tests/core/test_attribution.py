"""Attribution on hand-written answers: right markers kept, wrong ones moved, missing ones added, bad figures flagged."""

from __future__ import annotations

from bot.core.attribution import attribute, best_sentence, split_sentences

FR = [
    (1, "Fondée en 2016 par Alexandr Wang, Scale AI s’est imposée comme un acteur incontournable. "
        "Sa croissance est fulgurante : 870 millions de dollars de chiffre d’affaires en 2024."),
    (2, "Meta Platforms est en pourparlers avancés pour investir plus de 10 milliards de dollars dans Scale AI. "
        "L’action Meta a progressé de près de 1% à l’annonce des discussions."),
]
EN = [
    (1, "Scale AI was founded in 2016 by Alexandr Wang. Its revenue reached $870 million in 2024."),
    (2, "Meta is in talks to invest more than $10 billion in Scale AI, Bloomberg reported on June 7, 2025."),
]


def test_a_right_marker_is_kept() -> None:
    fr = attribute("Meta va investir plus de 10 milliards de dollars dans Scale AI [2].", FR)
    en = attribute("Scale AI was founded by Alexandr Wang [1].", EN)
    assert (fr.text(), fr.cited) == ("Meta va investir plus de 10 milliards de dollars dans Scale AI [2].", [2])
    assert (en.text(), en.cited) == ("Scale AI was founded by Alexandr Wang [1].", [1])


def test_a_wrong_marker_moves_to_the_passage_holding_the_figure() -> None:
    fr = attribute("Scale AI a réalisé 870 millions de dollars de chiffre d’affaires [2].", FR)
    en = attribute("Meta will invest $10 billion [1].", EN)
    assert fr.text() == "Scale AI a réalisé 870 millions de dollars de chiffre d’affaires [1]."
    assert en.text() == "Meta will invest $10 billion [2]."
    assert fr.sentences[0].original == (2,) and fr.sentences[0].cited == (1,)


def test_a_missing_marker_is_added_and_sources_follow_citation_order() -> None:
    result = attribute("The talks were reported on June 7, 2025. Scale AI was founded in 2016.", EN)
    assert result.text() == "The talks were reported on June 7, 2025 [2]. Scale AI was founded in 2016 [1]."
    assert result.cited == [2, 1]


def test_an_english_sentence_is_attributed_to_a_french_passage_by_its_figures_and_names() -> None:
    result = attribute("Meta plans to invest more than $10 billion in Scale AI.", FR)
    assert result.cited == [2]


def test_an_unsupported_figure_is_flagged_and_marked_or_removed() -> None:
    fr = attribute("Meta investira 12 milliards de dollars [2]. Scale AI a été fondée en 2016 [1].", FR)
    assert fr.flagged == ["Meta investira 12 milliards de dollars."]
    assert fr.sentences[0].unsupported == ("12 milliards",)
    assert fr.text(note="(absent des sources)") == "Meta investira 12 milliards de dollars (absent des sources). Scale AI a été fondée en 2016 [1]."
    assert fr.text(unsupported="remove") == "Scale AI a été fondée en 2016 [1]."
    en = attribute("The stock rose 5% on the news.", EN)
    assert en.flagged == ["The stock rose 5% on the news."]


def test_a_marker_no_passage_supports_is_dropped() -> None:
    result = attribute("The articles do not say. I hope this helps [1].", EN)
    assert result.text() == "The articles do not say. I hope this helps."
    assert result.cited == []


def test_sentences_split_after_markers_but_not_inside_numbers_or_titles() -> None:
    assert split_sentences("M. Wang a levé 14.3 milliards [1]. Puis il est parti [2]. Fin") == [
        "M. Wang a levé 14.3 milliards [1].", "Puis il est parti [2].", "Fin"]


def test_the_quote_is_the_supporting_sentence_not_the_start_of_the_passage() -> None:
    assert best_sentence("Scale AI had $870 million in revenue.", FR[0][1]).startswith("Sa croissance est fulgurante")


SEED = [
    (1, "Meta Platforms est en pourparlers avancés pour investir plus de 10 milliards de dollars dans Scale AI, une startup "
        "spécialisée dans l’intelligence artificielle. Selon Bloomberg, il s’agirait de la plus grande opération de Meta."),
    (2, "Le groupe prévoit de dépenser jusqu’à 65 milliards de dollars dans des projets liés à l’IA cette année. "
        "En 2024, Scale AI a été valorisée à près de 14 milliards de dollars."),
]


def test_a_figure_taken_from_another_sentence_is_flagged() -> None:
    wrong = attribute("Meta prévoit d’investir plus de 65 milliards de dollars dans Scale AI cette année [1].", SEED)
    assert wrong.sentences[0].unsupported == ("65 milliards",)
    assert wrong.text(unsupported="remove") == ""
    # The sentence the statement is about, with its own figure, is what sets it right.
    assert wrong.sentences[0].holders == ((1, SEED[0][1].split(" Selon")[0]),)
    valuation = attribute("En 2024, Scale AI a été valorisée à près de 65 milliards de dollars.", SEED)
    assert valuation.sentences[0].unsupported == ("65 milliards",)
    assert valuation.sentences[0].holders == ((2, "En 2024, Scale AI a été valorisée à près de 14 milliards de dollars."),)


def test_a_figure_in_its_own_context_is_not_flagged() -> None:
    for answer in (
        "Meta va investir plus de 10 milliards de dollars dans Scale AI [1].",
        "Le groupe prévoit de dépenser jusqu’à 65 milliards de dollars dans l’IA cette année [2].",
        "Meta va investir 10 milliards dans Scale AI et dépenser 65 milliards dans l’IA cette année.",  # both facts, both figures
        "En 2024, Scale AI valait près de 14 milliards de dollars [2].",
    ):
        assert attribute(answer, SEED).sentences[0].unsupported == (), answer
    # Across languages the words cannot be compared ("spend" / "dépenser"): only the figures and names count.
    assert attribute("Meta plans to spend up to $65 billion on AI projects this year.", SEED).sentences[0].unsupported == ()


def test_the_note_stays_inside_a_sentence_whose_marker_follows_its_full_stop() -> None:
    fr = attribute("Meta prévoit d’investir plus de 65 milliards de dollars dans Scale AI cette année. [2]", SEED)
    assert fr.text(note="(absent des sources)") == (
        "Meta prévoit d’investir plus de 65 milliards de dollars dans Scale AI cette année (absent des sources). [2]"
    )
    assert split_sentences(fr.text(note="(absent des sources)")) == [fr.text(note="(absent des sources)")]


def test_markers_in_a_row_leave_no_stray_commas_when_placed_again() -> None:
    from bot.core.attribution import attribute

    passages = [(1, "Les incertitudes portent sur la structure exacte de l’investissement."), (2, "Autre chose."), (3, "Encore autre chose.")]
    out = attribute("Des incertitudes portent sur la structure exacte de l’investissement [1], [2], and [3].", passages)
    assert out.text("remove", "") == "Des incertitudes portent sur la structure exacte de l’investissement [1]."


def test_a_figure_of_the_articles_title_is_held_by_its_passages_but_not_its_names() -> None:
    # The stand-in's answer on PIAF: the year is in the title the passage was shown under, the medals in its text.
    olympics = [
        (1, "Les Jeux ont eu lieu du 5 au 21 août et plus de 11 000 athlètes participent à cet événement sportif."),
        (2, "En football, le Brésil remporte son premier titre. Les États-Unis terminent en tête du tableau des médailles "
            "avec 121 podiums dont 46 médailles d'or."),
    ]
    titles = {1: "Jeux olympiques d'été de 2016", 2: "Jeux olympiques d'été de 2016"}
    answer = "Les États-Unis ont gagné le plus de médailles aux JO de 2016, avec 121 podiums dont 46 médailles d'or."
    untitled = attribute(answer, olympics)
    assert untitled.cited == [] and untitled.sentences[0].cited == ()  # no passage held 2016 and the 121 podiums
    titled = attribute(answer, olympics, titles)
    assert titled.cited == [2] and titled.flagged == [] and titled.text().endswith("médailles d'or [2].")
    assert attribute("Le Brésil gagne en 2017.", olympics, titles).flagged == ["Le Brésil gagne en 2017."]
    # A name of the title alone supports no passage: every passage of the article shares it.
    assert attribute("Les Jeux olympiques d'été sont un succès.", [(3, "Le Brésil remporte son premier titre.")],
                     {3: "Jeux olympiques d'été de 2016"}).cited == []


RIO = [
    (1, "Michael Phelps est à nouveau l'athlète le plus médaillé de ces Jeux. Il porte à Rio son record à 23 titres olympiques."),
    (2, "En football, le Brésil remporte son premier titre, aux tirs au but face à l'Allemagne. "
        "Les États-Unis terminent en tête du tableau des médailles avec 121 podiums dont 46 médailles d'or."),
]
RIO_EN = [(1, "In football, Brazil won its first title. The United States topped the medal table with 121 medals, 46 of them gold.")]


def test_figures_given_to_another_subject_than_the_passages_give_them_are_flagged_with_where_they_are() -> None:
    # The stand-in on PIAF: the right 121 podiums, given to the country named in the sentence before.
    fr = attribute("Le Brésil a gagné le plus de médailles, avec 121 podiums dont 46 médailles d'or [2].", RIO)
    assert fr.sentences[0].unsupported == ("121", "46") and fr.text(unsupported="remove") == ""
    assert fr.sentences[0].holders == ((2, RIO[1][1].split(". ")[1]),)
    en = attribute("Brazil topped the medal table with 121 medals [1].", RIO_EN)
    assert en.sentences[0].unsupported == ("121",)
    assert en.sentences[0].holders[0][1].startswith("The United States topped")


def test_figures_given_to_their_own_subject_are_not_misnamed() -> None:
    for answer, passages in (
        ("Les États-Unis ont gagné le plus de médailles, avec 121 podiums [2].", RIO),
        ("Michael Phelps porte son record à 23 titres olympiques [1].", RIO),  # "Il porte …": the pronoun is Phelps
        ("Au total, le Brésil remporte 121 podiums.", RIO),  # the answer opens on no name: nothing to compare
        ("Team USA won 121 medals [1].", RIO_EN),  # a name the passages never give was not taken from them
        # The sentence holding the figure names the subject after an elision: "à l'Allemagne" is a name too.
        ("L'Allemagne obtient 42 médailles [1].", [(1, "Le match oppose Allemagne et Brésil. Le CIO attribue 42 médailles à l'Allemagne.")]),
    ):
        out = attribute(answer, passages).sentences[0]
        assert out.unsupported == () and out.holders == (), answer


# Two articles in the prompt: a small model joins the question's subject to the other article's people.
TWO_ARTICLES = [
    (1, "Albus Dumbledore est le directeur de Poudlard. Son père Perceval Dumbledore fut envoyé à Azkaban."),
    (2, "Elphias Doge est un ami d'enfance. Doge écrit la nécrologie du directeur dans la Gazette."),
]
TWO_TITLES = {1: "Albus Dumbledore", 2: "Elphias Doge"}


def test_a_sentence_joining_the_questions_names_to_another_articles_names_is_flagged() -> None:
    fr = attribute("Le père d'Albus Dumbledore est Elphias Doge [2].", TWO_ARTICLES, TWO_TITLES, "Qui est le père d'Albus Dumbledore ?")
    assert fr.sentences[0].unsupported == ("Elphias", "Doge") and fr.text(unsupported="remove") == ""
    # The question's names count lower-case too: what the reader typed is what the answer is about.
    en = attribute("Elphias Doge is the father of Albus Dumbledore.", TWO_ARTICLES, TWO_TITLES, "who is dumbledore's father?")
    assert en.flagged == ["Elphias Doge is the father of Albus Dumbledore."]


def test_names_of_one_article_a_quotation_an_unknown_name_or_no_question_are_not_joined() -> None:
    question = "Qui est le père d'Albus Dumbledore ?"
    for answer, passages, titles, asked in (
        ("Le père d'Albus Dumbledore est Perceval Dumbledore [1].", TWO_ARTICLES, TWO_TITLES, question),
        ("« Elphias Doge est un ami d'enfance » de Dumbledore [2].", TWO_ARTICLES, TWO_TITLES, question),
        ("Le père d'Albus Dumbledore est Gellert Grindelwald.", TWO_ARTICLES, TWO_TITLES, question),  # no article names him
        ("Le père d'Albus Dumbledore est Elphias Doge [2].", TWO_ARTICLES, TWO_TITLES, ""),
        ("Elphias Doge écrit la nécrologie [2].", TWO_ARTICLES, TWO_TITLES, "Qui a écrit la nécrologie ?"),  # no name asked
        # The other article names the question's subject with its own people: the statement may be its own.
        ("Le père d'Albus Dumbledore est Elphias Doge [2].",
         [TWO_ARTICLES[0], (2, "Elphias Doge est un ami d'enfance d'Albus Dumbledore.")], TWO_TITLES, question),
        # "Pendant" opens a sentence of the passages: it names no one.
        ("Pendant la guerre, Albus Dumbledore dirige Poudlard [1].",
         [TWO_ARTICLES[0], (2, "Pendant la guerre, Elphias Doge reste à Londres.")], TWO_TITLES, question),
    ):
        out = attribute(answer, passages, titles, asked).sentences[0]
        assert out.unsupported == (), answer
