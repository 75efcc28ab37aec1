"""Passage budget: answer-in-prompt rate against prompt length, whole passages vs passages trimmed to their best sentences.

Runs the shipped retrieval (real embedder, Chroma, FTS5) on the PIAF subset and the seed questions. For each question
it takes the top-k passages and, for the trimmed variants, keeps only the passage's sub-chunk (a ~400-character window
of whole sentences) that scored best against the question, or the best one plus its neighbours. "Answer in prompt" =
the gold answer text appears in the passages given to the model. Lengths are in characters and in SmolLM2 tokens.

    python docs/experiments/budget/trim.py  > docs/experiments/budget/results.txt
"""
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from bot.app import open_index  # noqa: E402
from bot.backends.model_files import bundled_model_path  # noqa: E402
from bot.settings import Settings  # noqa: E402
from retrieval.chunking import parent_id, sub_spans  # noqa: E402
from retrieval.quality.evaluate import contains_answer, load_jsonl, load_squad  # noqa: E402

K = (2, 3, 4, 5)


def token_counter():
    from llama_cpp import Llama

    from bot.backends.llama import _weight_repacking

    with _weight_repacking(False):
        llm = Llama(model_path=str(bundled_model_path()), n_ctx=512, vocab_only=True, verbose=False)
    return lambda text: len(llm.tokenize(text.encode("utf-8"), add_bos=False))


def trimmed(text, scores, chunk_id, neighbours):
    """The best-scoring sub-chunk of a passage (with ``neighbours`` windows either side); the whole passage if none."""
    spans = sub_spans(text)
    if len(spans) <= 1:
        return text
    best = max(range(len(spans)), key=lambda i: scores.get(f"{chunk_id}#{i}", -1.0))
    if scores.get(f"{chunk_id}#{best}") is None:
        return text
    lo, hi = max(0, best - neighbours), min(len(spans) - 1, best + neighbours)
    return text[spans[lo][0] : spans[hi][1]]


def run(index, questions, count, label):
    variants = {"whole": None, "best window": 0, "best window ±1": 1}
    stats = {(v, k): [0, 0, 0] for v in variants for k in K}  # found, chars, tokens
    for q in questions:
        hits = index.searcher.search(q.question, max(K))
        vec = index.searcher.embedder.embed_query(q.question)
        scores = dict(index.store.query(vec, 40 * 3))
        for v, nb in variants.items():
            texts = [h.chunk.text if nb is None else trimmed(h.chunk.text, scores, h.chunk.chunk_id, nb) for h in hits]
            for k in K:
                prompt = "\n\n".join(texts[:k])
                s = stats[(v, k)]
                s[0] += contains_answer(prompt, q.answers)
                s[1] += len(prompt)
                s[2] += count(prompt)
    n = len(questions)
    print(f"\n{label}: {n} answerable questions")
    print("| passages | variant | answer in prompt | mean characters | mean tokens (SmolLM2) |")
    print("|---|---|---|---|---|")
    for k in K:
        for v in variants:
            f, c, t = stats[(v, k)]
            print(f"| {k} | {v} | {f / n:.3f} | {c / n:.0f} | {t / n:.0f} |")


def main():
    count = token_counter()
    with tempfile.TemporaryDirectory() as tmp:
        index = open_index(Settings(data_dir=Path(tmp) / "piaf"))
        docs, questions = load_squad(ROOT / "tests/data/piaf-subset.json")
        index.indexer.add_documents(docs, progress=False)
        run(index, questions, count, "PIAF subset (tests/data/piaf-subset.json)")
        index.close()
        index = open_index(Settings(data_dir=Path(tmp) / "seed"))
        index.indexer.ingest([ROOT / "seeds"], progress=False)
        seed = [q for q in load_jsonl(ROOT / "tests/data/seed_questions.jsonl") if not q.unanswerable]
        run(index, seed, count, "seed questions (tests/data/seed_questions.jsonl)")
        index.close()


if __name__ == "__main__":
    main()
