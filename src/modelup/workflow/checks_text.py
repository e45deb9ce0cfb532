"""The ``plain_text`` check kind: a free-text field a person reads is checked, not trusted.

A customer-facing field (``customer_reply`` in support-ops) is shown to someone as it is. A model
that writes markup, script, a link or template syntax into it has put something there that a
page may render, a client may follow or a template engine may evaluate. ``plain_text`` fails
the case on any of them, naming what it found:

- ``markup``: an HTML or XML tag (``<b>``, ``</div>``, ``<img src=x>``), comment or declaration;
- ``script``: a script element, a ``javascript:``/``vbscript:`` URL, an inline event handler
  (``onerror=``), or an element that embeds another document (``iframe``, ``object``, ``embed``);
- ``links``: a URL (``https://``, ``www.``, ``mailto:``) or a Markdown link or image;
- ``templates``: template syntax (``{{``, ``{%``, ``{#``, ``${``, ``<%``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from modelup.workflow.check_params import FINDINGS, Finding, PlainTextParams
from modelup.workflow.checks import CheckOutcome, _flatten_text, _outcome, register_check, values_at

_MAX_SHOWN = 3
_MAX_MATCH = 40

_PATTERNS: dict[Finding, re.Pattern[str]] = {
    "script": re.compile(
        r"<\s*/?\s*(?:script|iframe|object|embed|frame|frameset|applet)\b"
        r"|\b(?:javascript|vbscript|livescript)\s*:"
        r"|\bdata\s*:\s*text/html"
        r"|<[^<>]*\bon[a-z]+\s*=",
        re.IGNORECASE,
    ),
    "markup": re.compile(
        r"<\s*/?\s*[a-z][a-z0-9:-]*(?:\s[^<>]*)?/?\s*>|<!--|<!\s*doctype\b|<\?xml\b|<!\[cdata\[",
        re.IGNORECASE,
    ),
    "links": re.compile(
        r"\b[a-z][a-z0-9+.-]*://\S+|\bwww\.[^\s.]+\.\S+|\bmailto:\S+|!?\[[^\]\n]*\]\([^)\n]*\)",
        re.IGNORECASE,
    ),
    "templates": re.compile(r"\{\{|\{%|\{#|\$\{|<%"),
}


_TRIGGERS = ("<", ":", "{", "$", "[")
"""Every pattern needs one of these, or ``www.``: most replies have none and skip the scan."""


def plain_text_findings(
    text: str, forbid: tuple[Finding, ...] = FINDINGS
) -> dict[Finding, list[str]]:
    """What of ``forbid`` ``text`` holds, each with the matches found (in order, clipped)."""
    found: dict[Finding, list[str]] = {}
    if not any(trigger in text for trigger in _TRIGGERS) and "www." not in text.lower():
        return found
    for kind in forbid:
        matches = [match.group() for match in _PATTERNS[kind].finditer(text)]
        if matches:
            found[kind] = [_clip(match) for match in dict.fromkeys(matches)]
    return found


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MATCH else text[: _MAX_MATCH - 1] + "…"


@register_check("plain_text", params=PlainTextParams)
def _plain_text(
    output: Mapping[str, Any], case: Mapping[str, Any], params: Mapping[str, Any]
) -> CheckOutcome:
    """Every field at ``output`` is plain text: no markup, script, link or template syntax
    (or only those of ``forbid``)."""
    paths = [params["output"]] if isinstance(params["output"], str) else list(params["output"])
    forbid = tuple(params.get("forbid") or FINDINGS)
    texts = [
        text for path in paths for value in values_at(output, path) for text in _flatten_text(value)
    ]
    found = plain_text_findings("\n".join(texts), forbid)
    if not found:
        return _outcome(True, None)
    label = params.get("label") or ", ".join(paths)
    shown = "; ".join(
        f"{kind} ({', '.join(repr(m) for m in matches[:_MAX_SHOWN])})"
        for kind, matches in found.items()
    )
    return _outcome(False, f"{label} is not plain text: {shown}")
