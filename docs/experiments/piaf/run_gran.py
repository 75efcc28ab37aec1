"""Third dense granularity: paragraph + 400/100 sub-chunks + {sentences | smaller chunks}.

python run_gran.py sent 250/50 200/50 ...   (embeds what is missing, batched; then sweeps weights)
Dense = a*cos(para) + b*max(sub400) + c*max(g), a+b+c=1; fusion absi a=0.8 c=50 n=40 (shipped).
Every grid point goes to grid_gran.jsonl; the baseline, each granularity's best-on-tune and
neighbours go to results.jsonl via log().
"""
import sys, json, time, itertools
import numpy as np
from gran import setup, gran, fused, all_splits, log_all

S = setup()
M4, n4 = gran("400/100")
base = log_all("GRAN baseline 0.3*para+0.7*max400 absi a=0.8 c=50 n=40", fused(0.3 * S.D0 + 0.7 * M4))
log_all("GRAN repo-style 0.3*para+0.7*max(max400,para) absi a=0.8 c=50 n=40", fused(0.3 * S.D0 + 0.7 * np.maximum(M4, S.D0)))
grid = open("grid_gran.jsonl", "a")


def key(r, floor):  # tune objective: hit@3, hit@1 must not drop below the baseline's
    return (r["hit@3"] + 0.25 * r["mrr"]) if r["hit@1"] >= floor - 1e-9 else -1


for g in sys.argv[1:]:
    t = time.time(); Mg, ng = gran(g); te = time.time() - t
    print(f"{g}: {ng} units ({ng / len(S.paras):.2f}/paragraph), embed/load {te:.0f}s", flush=True)
    res = {}
    for a, c in itertools.product((0.0, 0.1, 0.2, 0.3, 0.4), (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0)):
        for three in (True, False):  # three: b = 1-a-c on max400; else 400 dropped (c = 1-a)
            b = round(1 - a - c, 2) if three else 0.0
            cc = c if three else round(1 - a, 2)
            if b < 0 or (a, b, cc) in res:
                continue
            r = all_splits(fused(a * S.D0 + b * M4 + cc * Mg))
            res[(a, b, cc)] = r
            grid.write(json.dumps({"g": g, "units": ng, "a": a, "b": b, "c": cc, **{s: {k: round(v, 4) for k, v in m.items()} for s, m in r.items()}}) + "\n")
    grid.flush()
    best = max(res, key=lambda w: key(res[w]["tune"], base["tune"]["hit@1"]))
    a, b, c = best
    top = sorted(res, key=lambda w: -res[w]["full"]["hit@3"])[:5]
    print("top full hit@3:", [(w, round(res[w]["full"]["hit@3"], 4), round(res[w]["full"]["hit@1"], 4)) for w in top], flush=True)
    log_all(f"GRAN best-on-tune {a}*para+{b}*max400+{c}*max[{g}] absi a=0.8 c=50 n=40", fused(a * S.D0 + b * M4 + c * Mg),
            units=ng, embed_s=round(te))
    for fa, fc in ((0.75, 50), (0.85, 50), (0.8, 30), (0.8, 80)):
        log_all(f"GRAN {a}*para+{b}*max400+{c}*max[{g}] absi a={fa} c={fc} n=40", fused(a * S.D0 + b * M4 + c * Mg, a=fa, c=fc))
