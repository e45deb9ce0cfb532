"""The ``params`` each built-in check kind accepts, as strict models.

A workflow file's check parameters are validated against these when the file is loaded, so a
missing or misspelt parameter is an error naming the file and the key. Parameters named
``case``, ``when`` and ``allow_when`` name case fields; ``output`` names output paths; the loader
checks both against the workflow's declarations.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    model_validator,
)

Paths = StrictStr | list[StrictStr]


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    label: StrictStr | None = None
    """How the checked thing is named in notes (``Priority mismatch: ...``)."""


class EqualsParams(_Params):
    output: StrictStr
    case: StrictStr | None = None
    value: StrictBool | StrictInt | StrictFloat | StrictStr | None = None

    @model_validator(mode="after")
    def _one_expectation(self) -> EqualsParams:
        given = {"case", "value"} & self.model_fields_set
        if len(given) != 1:
            raise ValueError("give exactly one of 'case' (a case field) or 'value' (a constant)")
        return self


class CaseFieldParams(_Params):
    output: StrictStr
    case: StrictStr


class TextParams(_Params):
    output: Paths
    case: StrictStr


class _ItemsRule(_Params):
    output: StrictStr
    case: StrictStr


class _KeywordsRule(_Params):
    output: Paths
    case: StrictStr


class NoneForbiddenParams(_Params):
    items: list[_ItemsRule] = []
    keywords: list[_KeywordsRule] = []


class ToolSchemaParams(_Params):
    output: StrictStr
    tools: list[StrictStr]
    argument_keys: list[StrictStr]
    name_key: StrictStr = "tool_name"
    arguments_key: StrictStr = "arguments"


class NonEmptyWhenParams(_Params):
    output: StrictStr
    when: StrictStr | None = None
    """A case field: the list must be non-empty when it is truthy (always, when omitted)."""


class LexiconParams(_Params):
    output: StrictStr
    classes: dict[StrictStr, list[StrictStr]] = Field(min_length=1)
    """Class name to terms, tried in the order declared; the first class with a term wins."""
    default: StrictStr = "unclassified"
    """The class of an item that contains no term of any class."""
    forbidden: list[StrictStr] = Field(min_length=1)
    allow_when: StrictStr | None = None
    """A case field that, when truthy, allows the forbidden classes for that case."""

    @model_validator(mode="after")
    def _known_classes(self) -> LexiconParams:
        known = {*self.classes, self.default}
        unknown = [name for name in self.forbidden if name not in known]
        if unknown:
            raise ValueError(f"forbidden names classes that are not declared: {unknown}")
        return self


class SourcesCitedParams(_Params):
    output: StrictStr
    case: StrictStr
    """A case field listing the sources (a list, or a map whose keys are the source ids)."""
    min_items: StrictInt = Field(1, ge=0)


class PolicyParams(_Params):
    output: StrictStr
    policy: Any
    """A ``Policy``; in a workflow file, the name of one of its ``policies``."""
    fail_on: Literal["any", "missed"] = "any"
    """``missed``: only a yes the model failed to give fails (an extra yes is noted)."""


Finding = Literal["markup", "script", "links", "templates"]
FINDINGS: tuple[Finding, ...] = ("markup", "script", "links", "templates")


class PlainTextParams(_Params):
    output: Paths
    """The output fields that must be plain text (a list field: every item)."""
    forbid: list[Finding] = Field(default_factory=lambda: list(FINDINGS), min_length=1)
    """What fails the case: markup, script, links, templates (all four by default)."""


class PythonParams(BaseModel):
    """``function`` is an import path; every other key is passed to the function as is."""

    model_config = ConfigDict(extra="allow", frozen=True)

    function: StrictStr
