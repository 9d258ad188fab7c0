"""Settings passed from Python (`ask(q, settings={...})`): a wrong one is a ConfigError naming it,
never a TypeError from deep inside or a silent refusal of every question."""

import pytest

from qa import REFUSAL, ConfigError, ask
from qa.settings import Settings, get_settings
from qa.types import Source

from conftest import SEEDS


@pytest.mark.parametrize(("overrides", "message"), [
    ({"top_kk": 3}, "unknown setting 'top_kk'; did you mean 'top_k'?"),
    ({"colour": "red"}, "unknown setting 'colour'$"),
    ({"top_k": "many"}, "top_k must be a number, not 'many'"),
    ({"top_k": 2.5}, "top_k must be a whole number, not 2.5"),
    ({"top_k": True}, "top_k must be a whole number, not True"),
    ({"temperature": -0.5}, "temperature must be between 0 and 2"),
    ({"n_ctx": 100}, "n_ctx must be at least 512 tokens"),
    ({"top_k": -1}, "top_k must be a positive number, not -1"),
    ({"n_ctx": 10_000_000}, "n_ctx must be at most 131072 tokens, not 10000000"),
    ({"llm_timeout_s": -5}, "llm_timeout_s must be a positive number of seconds, not -5"),
    ({"backend": "gpu"}, "backend must be auto, local or openai"),
])
def test_a_wrong_setting_is_named(overrides, message):
    with pytest.raises(ConfigError, match=message):
        get_settings(overrides)


def test_an_error_names_where_the_value_came_from():
    """The environment variable for a value read from it; the field for one passed in."""
    with pytest.raises(ConfigError, match="^QA_TOP_K must be a positive number, not -1$"):
        Settings.from_env(env={"QA_TOP_K": "-1"})
    with pytest.raises(ConfigError, match="^top_k must be a positive number, not -2$"):
        Settings.from_env(env={"QA_TOP_K": "-1"}, top_k=-2)
    with pytest.raises(ConfigError, match="^top_k must be a positive number, not 0$"):
        Settings.from_env(env={"QA_TOP_K": "3"}).replace(top_k=0)


def test_numbers_given_as_text_are_read_as_numbers():
    s = get_settings({"top_k": " 3 ", "temperature": "0.2", "articles_dir": str(SEEDS)})
    assert (s.top_k, s.temperature) == (3, 0.2)
    with pytest.raises(ConfigError, match="top_k must be a whole number"):
        Settings.from_env(env={}).replace(top_k="3")


def test_a_source_budget_too_small_for_any_passage_is_an_error_not_a_refusal(fake_llm, settings):
    passage = Source(number=1, article="001_d09e4f1b547c6a50.txt", title="Lavrov on China",
                     publisher=None, date=None, start=0, end=60, score=1.0,
                     text="Russian exports to China were worth $79.3 billion in 2021.")

    class OnePassage:
        def retrieve(self, question: str) -> list[Source]:
            return [passage]

    fake_llm.enqueue(REFUSAL)
    with pytest.raises(ConfigError, match="no passage fits .* raise QA_SOURCE_TOKENS"):
        ask("How much were exports worth?", settings=settings.replace(source_tokens=10),
            llm=fake_llm, retriever=OnePassage())
    assert not fake_llm.prompts
