"""qa: cited, verified answers from a folder of news articles."""

from . import offline as _offline

_offline.apply()

from .api import Chat, ask, ask_stream, warm_up  # noqa: E402
from .errors import (  # noqa: E402
    ArticlesError,
    BackendError,
    ConfigError,
    IndexBuildError,
    IndexLockedError,
    InvalidQuestion,
    ModelError,
    QAError,
)
from .prompt import REFUSAL  # noqa: E402
from .settings import Settings  # noqa: E402
from .types import Answer, Citation, Retrieved, Source, Timings, Usage  # noqa: E402

__all__ = [
    "REFUSAL", "Answer", "ArticlesError", "BackendError", "Chat", "Citation", "ConfigError",
    "IndexBuildError", "IndexLockedError", "InvalidQuestion", "ModelError", "QAError", "Settings",
    "Retrieved", "Source", "Timings", "Usage", "ask", "ask_stream", "warm_up",
]
