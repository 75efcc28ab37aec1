"""Admin uploads: names that clean to the same thing never overwrite each other, and no upload removes passages."""

import pytest

from bot.telegram.upload import safe_name, unique_path
from tests.fake_telegram import document, message, until
from tests.telegram.world import ADMIN


def test_unique_paths_differ_for_names_that_clean_alike(tmp_path):
    names = ["report.txt", "../report.txt", "sub/report.txt", "report.txt"]
    assert {safe_name(n) for n in names} == {"report.txt"}  # why a unique path is needed
    paths = [unique_path(tmp_path, safe_name(n)) for n in names]
    assert len(set(paths)) == len(paths) and all(p.exists() and p.suffix == ".txt" for p in paths)
    assert all(p.parent == tmp_path for p in paths)


@pytest.mark.parametrize("names", [["report.txt", "../report.txt", "sub/report.txt"], [None, None]])
async def test_two_uploads_of_one_cleaned_name_both_stay_in_the_index(bot, tg, fake_index, names):
    before_docs, _ = fake_index.catalog.counts()
    before_chunks = set(fake_index.catalog.chunk_ids())
    for i, name in enumerate(names):
        body = f"Title: Article {i}\n\nLe port numéro {i} ouvre un quai pour les ferries en 202{i}.".encode()
        tg.files[f"U{i}"] = body
        doc = document(f"U{i}", name or "x.txt", len(body))
        if name is None:
            del doc["file_name"]
        tg.push(message(ADMIN, ADMIN, document=doc))
        await until(lambda: len(tg.texts(ADMIN)) == i + 1, what=f"upload {i}")
        assert tg.texts(ADMIN)[i].startswith("Added “"), tg.texts(ADMIN)[i]
    docs, _ = fake_index.catalog.counts()
    assert docs == before_docs + len(names)  # the first article did not silently leave the index
    assert before_chunks <= set(fake_index.catalog.chunk_ids())  # no upload removed a passage
    uploads = list((bot.services.settings.data_dir / "uploads").iterdir())
    assert len(uploads) == len(names)
