"""Plateau-centre settings of the granularity sweep (run_gran.py) and a four-level combination, logged."""
from gran import setup, gran, fused, log_all
S = setup(); M4, _ = gran("400/100"); MS, _ = gran("sent"); M25, _ = gran("250/50")
log_all("GRAN plateau 0.2*para+0.6*max400+0.2*max[sent] absi a=0.8 c=50 n=40", fused(0.2 * S.D0 + 0.6 * M4 + 0.2 * MS))
log_all("GRAN plateau 0.1*para+0.4*max400+0.5*max[250/50] absi a=0.8 c=50 n=40", fused(0.1 * S.D0 + 0.4 * M4 + 0.5 * M25))
for w in ((0.2, 0.4, 0.2, 0.2), (0.1, 0.3, 0.3, 0.3), (0.2, 0.2, 0.3, 0.3)):
    a, b, c, d = w
    log_all(f"GRAN4 {a}*para+{b}*max400+{c}*max[sent]+{d}*max[250/50] absi a=0.8 c=50 n=40", fused(a * S.D0 + b * M4 + c * MS + d * M25))
