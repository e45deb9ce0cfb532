"""How every command's ``--help`` reads: readable placeholders (``PATH``, ``MODEL``, none for a
flag), never the type names typer shows by default (``<bool>``, ``<list[str]>``)."""

from __future__ import annotations

from typing import Any

from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption


class _NamedArgument(TyperArgument):
    """An argument whose placeholder (``FILE``) says what it takes: no ``<path>`` after it."""

    def display_type_rich(self, ctx: Any) -> str | None:
        return None


class Command(TyperCommand):
    """A command whose ``--help`` shows readable placeholders: none for a flag (not
    ``<bool>``), and an argument's own (``FILE``, not ``<path>`` or ``<list[Path]>``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if type(param) is TyperArgument:
                if param.metavar is None:
                    param.metavar = (param.name or "value").upper()
                param.__class__ = _NamedArgument
            elif isinstance(param, TyperOption) and param.metavar is None:
                # A flag takes nothing; any other option, what its name says it takes.
                param.metavar = "" if param.is_flag else (param.name or "value").upper()

    def get_help_option(self, ctx: Any) -> Any:
        return _no_placeholder(super().get_help_option(ctx))


class Group(TyperGroup):
    def get_help_option(self, ctx: Any) -> Any:
        return _no_placeholder(super().get_help_option(ctx))


def _no_placeholder(option: Any) -> Any:
    if option is not None:
        option.metavar = ""
    return option
