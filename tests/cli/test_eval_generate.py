"""`eval --generate` on a tiny run with the fake generator: every metric, as written and as shown."""

from __future__ import annotations

import json

import bot.cli.eval as eval_cli
from bot.cli.eval import GENERATION_KEYS, table
from retrieval.quality.evaluate import Question
from tests.conftest import SEEDS
from tests.fakes import FakeGenerator

QUESTIONS = [
    Question("Combien Meta prévoit-il d'investir dans Scale AI ?", ("plus de 10 milliards de dollars",)),
    Question("How much is Meta planning to invest in Scale AI?", ("plus de 10 milliards de dollars",)),
    Question("Quelle est la capitale de l'Australie ?", (), unanswerable=True),
]


def _three_answers(monkeypatch, fake_index, settings):
    """The seeds ingested and a fake model whose three answers hold each fault the checks fix: a wrong marker and an
    unsupported figure, a missing marker, an English abstention to a French question."""
    fake = FakeGenerator()
    fake.enqueue(
        "Meta va investir plus de 10 milliards de dollars dans Scale AI [3]. Meta a aussi investi 99 milliards [1].",
        "Meta plans to invest more than $10 billion in Scale AI.",
        "The articles do not say.",
    )
    monkeypatch.setattr(eval_cli, "load_generator", lambda settings, interactive: fake)
    fake_index.indexer.ingest([SEEDS])
    return settings.model_copy(update={"abstain_threshold": 0.0})


def test_eval_generate_reports_every_metric_before_and_after(monkeypatch, fake_index, settings) -> None:
    settings = _three_answers(monkeypatch, fake_index, settings)
    result = eval_cli._generate(settings, fake_index, QUESTIONS, lambda msg: None)
    assert result["model"] == "fake-model.gguf" and result["answered"] == 3
    for stage in ("raw", "mark", "final"):
        assert set(result[stage]) == {"questions", *GENERATION_KEYS}
    raw, final = result["raw"], result["final"]
    assert raw["answer_accuracy"] == final["answer_accuracy"] == 1.0  # "$10 billion" is the gold figure in English
    assert raw["citation_precision"] < 1.0 and final["citation_precision"] == 1.0  # the wrong marker moved
    assert raw["cited_answers"] < final["cited_answers"] == 1.0  # the missing marker added
    assert raw["unsupported_rate"] > 0 and final["unsupported_rate"] == 0.0 and result["mark"]["unsupported_rate"] == 0.0
    assert raw["language_match"] < 1.0 and final["language_match"] == 1.0  # the English abstention to a French question
    assert final["abstention_recall"] == 1.0 and final["false_abstentions"] == 0
    assert final["median_ttft_ms"] is not None
    text = table({"questions": 3, "hit@1": 1.0, "mrr": 1.0, "p50_ms": 1, "p95_ms": 1, "generation": result}, [1])
    assert "citation_precision" in text and "→ 1.0" in text


def test_answers_file_rescored_gives_the_same_scores(monkeypatch, fake_index, settings, tmp_path) -> None:
    from bot.cli.answer_quality import rescore

    settings = _three_answers(monkeypatch, fake_index, settings)
    answers = tmp_path / "answers.jsonl"
    result = eval_cli._generate(settings, fake_index, QUESTIONS, lambda msg: None, answers)
    records = [json.loads(line) for line in answers.read_text(encoding="utf-8").splitlines()]
    assert [r["question"] for r in records] == [q.question for q in QUESTIONS]
    assert records[0]["written"].startswith("Meta va investir") and "99 milliards" not in records[0]["shown"]
    assert records[0]["unsupported"] == ["Meta a aussi investi 99 milliards."] and records[2]["final"]["abstained"]
    again = rescore(answers, tmp_path / "again.jsonl", fake_index.embedder)  # as `eval --rescore` passes the encoder
    for stage in ("raw", "mark", "final"):
        assert again[stage] == result[stage]
    assert [json.loads(line)["shown"] for line in (tmp_path / "again.jsonl").read_text(encoding="utf-8").splitlines()] == [
        r["shown"] for r in records
    ]


def test_rescore_refuses_a_file_that_is_not_an_answers_file(tmp_path) -> None:
    import pytest

    from bot.cli.answer_quality import rescore
    from retrieval.errors import NewsbotError

    bad = tmp_path / "questions.jsonl"
    bad.write_text('{"question": "Qui ?", "answers": ["X"]}\n', encoding="utf-8")
    with pytest.raises(NewsbotError, match="not an `eval --answers` file"):
        rescore(bad)


def test_a_figure_given_about_something_else_counts_as_unsupported() -> None:
    from bot.cli.answer_quality import shown_unsupported
    from bot.core.events import Source
    from tests.core.test_attribution import SEED

    sources = [Source(n, f"d{n}", "t", f"c{n}", text, 1.0, 0, len(text)) for n, text in SEED]
    assert shown_unsupported("Meta prévoit d’investir plus de 65 milliards de dollars dans Scale AI cette année [1].", sources)
    assert not shown_unsupported("Meta va investir plus de 10 milliards de dollars dans Scale AI [1].", sources)
    assert not shown_unsupported("Meta investira 12 milliards (absent des sources).", sources)  # flagged: not claimed


def test_an_answer_is_correct_whatever_its_commas_and_in_figures_of_either_language() -> None:
    from bot.cli.answer_quality import correct

    assert correct("Meta, Amazon, and Nvidia backed it [1].", ["Meta, Amazon and Nvidia"])
    assert correct("Meta plans to invest more than $10 billion [1].", ["plus de 10 milliards de dollars"])
    assert not correct("Meta and Amazon backed it [1].", ["Meta, Amazon and Nvidia"])
    assert not correct("Meta plans to invest $65 billion [1].", ["plus de 10 milliards de dollars"])


def test_an_answer_of_names_alone_is_in_no_language_and_one_with_words_in_theirs() -> None:
    from bot.cli.answer_quality import language_of

    assert language_of("Pierre Giustiniani [1]") is None  # counted as in the question's language
    assert language_of("Le nouveau nom de la famille est Stefanopoli [1].") == "fr"
    assert language_of("The new name of the family is Stefanopoli [1].") == "en"
    assert language_of("Meta soutient Anthropic [1].") is None  # no function word, no accent: no evidence either way
    assert language_of("Meta backs Anthropic, according to the article [1].") == "en"
    assert language_of("Scale AI existe depuis 2016 [1].") == "fr"
