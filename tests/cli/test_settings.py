"""Settings: defaults, environment variables, and one-line errors naming the variable."""

import pytest

from bot.settings import Settings, load_settings
from retrieval.errors import ConfigError


def test_defaults_and_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("NEWSBOT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("NEWSBOT_ALLOWED_USERS", "12, 34")
    monkeypatch.setenv("NEWSBOT_N_CTX", "2048")
    s = load_settings(_env_file=None)
    assert s.data_dir == tmp_path and s.allowed_users == [12, 34] and s.n_ctx == 2048
    assert s.model == "auto" and s.models_dir == tmp_path / "models"


def test_dotenv_file_is_read(monkeypatch, tmp_path):
    env = tmp_path / ".env"
    env.write_text("NEWSBOT_TOP_K=7\n", encoding="utf-8")
    assert Settings(_env_file=env).top_k == 7


@pytest.mark.parametrize(
    "var, value, expected",
    [
        ("NEWSBOT_N_CTX", "12", "NEWSBOT_N_CTX: Input should be greater than or equal to 512"),
        ("NEWSBOT_TOP_K", "many", "NEWSBOT_TOP_K: Input should be a valid integer"),
        ("NEWSBOT_MODEL", "hf:nope", "NEWSBOT_MODEL: Value error, hf: models are written hf:OWNER/REPO/FILE.gguf"),
        ("NEWSBOT_ALLOWED_USERS", "12,abc", "NEWSBOT_ALLOWED_USERS"),
    ],
)
def test_invalid_values_are_one_line_errors(monkeypatch, var, value, expected):
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError) as err:
        load_settings(_env_file=None)
    assert str(err.value).startswith(expected) and "\n" not in str(err.value)


def test_token_is_not_in_repr(monkeypatch):
    monkeypatch.setenv("NEWSBOT_TELEGRAM_TOKEN", "123:SECRET")
    assert "SECRET" not in repr(load_settings(_env_file=None))


def test_readme_lists_every_setting_as_the_code_defines_it():
    from bot.settings import settings_table
    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert settings_table() in readme, "README settings table is stale: regenerate it from bot.settings.settings_table()"
