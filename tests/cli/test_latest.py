"""`newsbot latest` and `--now` at the command line, over the dated corpus."""

from __future__ import annotations

import json
from pathlib import Path

from bot.cli.main import main

DATED = Path(__file__).parent.parent / "data" / "dated" / "articles.jsonl"


def test_latest_prints_date_source_title_link_and_also_in(fake_index, settings, monkeypatch, capsys):
    """The newest stories first, dates in French in the configured zone, the source filter, and JSON."""
    fake_index.indexer.ingest([DATED], progress=False)
    monkeypatch.setenv("NEWSBOT_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("NEWSBOT_TIMEZONE", "Europe/Paris")
    assert main(["latest", "2", "--lang", "fr"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Reuters · 23 juin 2025 — Tesla launches robotaxi service in Austin"
    assert out[1].strip() == "https://news.example/reuters/ts-1"
    assert out[2].startswith("The Guardian · 20 juin 2025")
    assert main(["latest", "1", "--source", "yahoo finance", "--json"]) == 0
    (item,) = json.loads(capsys.readouterr().out)["latest"]
    assert item["source"] == "Yahoo Finance" and item["also_in"] == ["Reuters · June 10, 2025"] * 2  # the first text and its update


def test_bad_now_and_bad_count_are_one_line_errors(settings, monkeypatch, capsys):
    """--now that is not ISO 8601, and latest 0, fail at once with one line."""
    monkeypatch.setenv("NEWSBOT_DATA_DIR", str(settings.data_dir))
    assert main(["ask", "--now", "demain", "Quoi de neuf ?"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("newsbot: error: --now 'demain': expected an ISO 8601") and err.count("\n") == 1
    assert main(["latest", "0"]) == 1
    assert "ask for 1 to 200" in capsys.readouterr().err
