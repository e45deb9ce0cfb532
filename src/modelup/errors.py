"""The one exception tree of modelup.

    ModelupError
     ├── ConfigError (ValueError)      bad configuration file, environment or flag
     ├── DatasetError (ValueError)     a frozen dataset that cannot be trusted
     ├── WorkflowError (ValueError)    a workflow definition that does not hold together
     ├── ClientError                   a model endpoint failed in a way that stops the run
     │    ├── ModelNotFoundError       the endpoint does not serve the requested model
     │    ├── RequestsRejected         the endpoint rejects the requests themselves (4xx)
     │    └── NoEvidenceError          every call of a model failed: nothing to judge
     ├── ReportError                   a report that cannot be read or written
     ├── StoreError                    the history store cannot be used
     ├── ReleaseError (ValueError)     a release request its record or its state does not allow
     └── ServeError                    the run-time shell cannot start (its extra, a workflow)

The CLI turns each of these into one line and an exit code; anything else is a bug and keeps its
traceback. Foreign errors are converted where they enter (``raise ... from exc``).
"""

from __future__ import annotations


class ModelupError(Exception):
    """Root of every error modelup raises on purpose."""


class ConfigError(ModelupError, ValueError):
    """The configuration (file, environment or flags) is invalid; the message names the key."""


class DatasetError(ModelupError, ValueError):
    """The dataset is invalid; the message names the file and the case (index or line)."""


class WorkflowError(ModelupError, ValueError):
    """A workflow definition is invalid or unknown."""


class ClientError(ModelupError):
    """A model endpoint failed in a way that must stop the whole run."""


class ModelNotFoundError(ClientError):
    """The endpoint answered that it does not serve the requested model."""


class RequestsRejected(ClientError):
    """The endpoint rejected the run's requests themselves (a rejected API key, or the same
    non-retryable 4xx on the first several calls of a model): no call can succeed until the
    configuration or the request changes, so the run stops with the endpoint's own message."""


class NoEvidenceError(ClientError):
    """Every call of a model failed (an outage, a server that is not listening): there is no
    evidence to judge, which is neither a verdict nor a bug."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable
        """Whether calling again could give evidence: False when the failed calls were kept as
        evidence (errored cases), which a resumed run would read back, not retry."""


class ReportError(ModelupError):
    """A report file cannot be read, parsed or written."""


class StoreError(ModelupError):
    """The history store cannot be opened, migrated or written."""


class ReleaseError(ModelupError, ValueError):
    """A release request that its record, its owner or its current state does not allow (an
    invalid transition, a signer who is not the owner, a conflicting release); the message names
    the release, its state and what is allowed."""


class ServeError(ModelupError):
    """``modelup serve`` cannot start: the ``serve`` extra is missing, or a workflow it was
    asked to serve cannot be served."""
