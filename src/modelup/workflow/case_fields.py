"""Case fields declared in a workflow file, turned into the strict pydantic model that checks
every case of a dataset.

A declaration names a type (``string``, ``integer``, ``number``, ``boolean``, ``list[...]`` of
those, or ``map[string]``: string keys to string values), optionally an ``enum`` of allowed
strings (its order is the field's *scale*, lowest first, for ordered policy conditions) and a
``default`` (a field without one is required). Types are strict: ``"true"`` is not a boolean and
``"3"`` is not an integer; an undeclared key in a case is an error.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    TypeAdapter,
    ValidationError,
    create_model,
)

from modelup.errors import WorkflowError

FieldType = Literal[
    "string",
    "integer",
    "number",
    "boolean",
    "list[string]",
    "list[integer]",
    "list[number]",
    "list[boolean]",
    "map[string]",
]
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
RESERVED = frozenset({"id", "family", "subsets", "provenance"})
"""Keys every case has, whatever the workflow: not available as case fields."""

_SCALARS: dict[str, Any] = {
    "string": StrictStr,
    "integer": StrictInt,
    "number": StrictInt | StrictFloat,
    "boolean": StrictBool,
}


class CaseFieldDecl(BaseModel):
    """One ``[case_fields.NAME]`` table of a workflow file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: FieldType
    enum: list[StrictStr] | None = Field(None, min_length=1)
    """Allowed values of a ``string`` or ``list[string]`` field, lowest first."""
    default: Any = None
    description: StrictStr = ""
    input: StrictBool | None = None
    """True: a request carries this field (the prompt renders it, a policy reads it); false: an
    expectation a labelled case has and a production request does not. Left out everywhere: the
    fields the prompt renders and the policies read are the inputs."""

    @property
    def has_default(self) -> bool:
        return "default" in self.model_fields_set

    @property
    def scale(self) -> tuple[str, ...]:
        return tuple(self.enum or ())

    @property
    def is_collection(self) -> bool:
        return self.type.startswith(("list[", "map["))

    def annotation(self) -> Any:
        if self.enum is not None:
            if self.type not in ("string", "list[string]"):
                raise WorkflowError("enum is only allowed for string and list[string] fields")
            if len(set(self.enum)) != len(self.enum):
                raise WorkflowError("enum values must be distinct")
            choice: Any = Literal.__getitem__(tuple(self.enum))
            return choice if self.type == "string" else list[choice]
        if self.type == "map[string]":
            return dict[StrictStr, StrictStr]
        if self.type.startswith("list["):
            item: Any = _SCALARS[self.type[5:-1]]
            return list[item]
        return _SCALARS[self.type]


def case_model(workflow_name: str, declarations: dict[str, CaseFieldDecl]) -> type[BaseModel]:
    """The frozen, strict model of a case's fields; raises ``WorkflowError`` naming the field
    as ``case_fields.NAME`` (with ``.default`` or ``.enum`` when that is the problem)."""
    fields: dict[str, Any] = {}
    for name, declaration in declarations.items():
        where = f"case_fields.{name}"
        if not _NAME.match(name):
            raise WorkflowError(f"{where}: a case field name is snake_case (a-z, 0-9, _)")
        if name in RESERVED:
            raise WorkflowError(f"{where}: {name!r} is reserved for every case")
        try:
            annotation = declaration.annotation()
        except WorkflowError as exc:
            raise WorkflowError(f"{where}.enum: {exc}") from None
        if declaration.has_default:
            try:
                default = TypeAdapter(annotation).validate_python(declaration.default)
            except ValidationError as exc:
                message = exc.errors()[0]["msg"]
                raise WorkflowError(f"{where}.default: {message}") from None
            fields[name] = (annotation, Field(default=default, description=declaration.description))
        else:
            fields[name] = (annotation, Field(description=declaration.description))
    title = "".join(part.title() for part in re.split(r"[^a-zA-Z0-9]+", workflow_name)) + "Case"
    model: type[BaseModel] = create_model(
        title, __config__=ConfigDict(extra="forbid", frozen=True), **fields
    )
    return model
