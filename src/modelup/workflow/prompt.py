"""The one fixed prompt of a workflow, and the chat messages it renders for a case."""

from __future__ import annotations

import hashlib
import json
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modelup.errors import WorkflowError


@dataclass(frozen=True, slots=True)
class Message:
    """One chat message sent to a model."""

    role: str
    content: str

    def to_json(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


@dataclass(frozen=True, slots=True)
class PromptTemplate:
    """One fixed prompt. ``$field`` placeholders are filled from the case's fields."""

    id: str
    messages: tuple[tuple[str, str], ...]

    @property
    def sha256(self) -> str:
        canonical = json.dumps(
            {"id": self.id, "messages": [list(m) for m in self.messages]},
            sort_keys=True,
            ensure_ascii=False,
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def render(self, fields: Mapping[str, Any]) -> tuple[Message, ...]:
        values = {k: v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()}
        try:
            return tuple(
                Message(role, string.Template(text).substitute(values))
                for role, text in self.messages
            )
        except KeyError as exc:
            raise WorkflowError(
                f"prompt {self.id!r} uses ${exc.args[0]} but the case has no such field"
            ) from exc
        except ValueError as exc:
            raise WorkflowError(f"prompt {self.id!r} has a bad placeholder: {exc}") from exc
