"""Render results.jsonl as a markdown table (last entry per config wins, log order kept)."""
import json
rows = {}
for line in open("results.jsonl"):
    r = json.loads(line); rows[r["config"]] = r
print("| # | configuration | hit@1 | hit@3 | hit@5 | hit@10 | MRR | p50 ms (lexical+fusion) |")
print("|---|---|---|---|---|---|---|---|")
for i, r in enumerate(rows.values(), 1):
    print(f"| {i} | {r['config']} | {r['hit@1']:.3f} | {r['hit@3']:.3f} | {r['hit@5']:.3f} | {r['hit@10']:.3f} | {r['mrr']:.3f} | {r.get('p50_ms', '')} |")
