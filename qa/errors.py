"""User-facing errors: one base class, so the CLI and UI can show one clean line."""


class QAError(Exception):
    """Base for every error a user can cause or fix; its message is one line saying what to do."""

    # True when the next request may succeed (this question, this call); False when the
    # set-up is wrong and every request would fail the same way.
    this_request_only: bool = False


class InvalidQuestion(QAError):
    """The question is empty or over the length limit."""

    this_request_only = True


class ArticlesError(QAError):
    """The articles folder is missing, empty, or holds nothing readable."""


class IndexLockedError(QAError):
    """Another process holds the Milvus Lite index file."""


class IndexBuildError(QAError):
    """The index could not be built or opened."""


class ModelError(QAError):
    """The local model is missing, incomplete, or fails its checksum."""


class BackendError(QAError):
    """The LLM endpoint is unreachable, rejected the key, or failed."""

    def __init__(self, message: str, *, this_request_only: bool = False):
        super().__init__(message)
        self.this_request_only = this_request_only  # a timeout or a server error


class ConfigError(QAError):
    """A setting has a value that cannot work."""
