"""Text modelup did not write (a model's answer, an endpoint's model name, fingerprint, ids and
error messages, a case field) made safe to print, store or show.

Such text may hold anything a JSON string can: NUL and other control characters (a terminal
escape sequence among them), lone surrogates (``json.loads`` makes one from ``"\\ud800"``; they
cannot be encoded as UTF-8, so printing or storing one crashes), non-characters, and characters
that reorder the text around them (Trojan Source, CVE-2021-42574). ``clean`` replaces the first
three with U+FFFD and shows the last as a visible ``[U+202E]`` marker. The JSON report keeps the
original (``modelup.jsonbytes`` writes a lone surrogate as its escape); everything a person or a
database reads goes through here first.
"""

from __future__ import annotations

import re

# Characters that reorder the text around them: shown as a visible marker so that a model
# cannot make a reader see something other than what it wrote.
_BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_BIDI = re.compile(f"[{_BIDI_CONTROLS}]")
# Characters XML 1.0 forbids (and HTML treats as parse errors; ESC starts a terminal escape
# sequence), lone surrogates and non-characters. Tab, newline and carriage return stay.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")
_LINE_BREAKS = re.compile(r"[\r\n\t]+")
REPLACEMENT = "\ufffd"


def clean(text: str | None, limit: int | None = None) -> str:
    """``text`` safe to show anywhere (escaping for HTML or Markdown is still the renderer's
    job): forbidden characters replaced by U+FFFD, direction overrides made visible, and at
    most ``limit`` characters kept, the cut said in words."""
    if text is None:
        return ""
    if limit is not None and len(text) > limit:
        cut = len(text) - limit
        text = f"{text[:limit]}… [{cut:,} more characters in the JSON report]"
    if text.isprintable():
        # No control character, surrogate, non-character or format character (the direction
        # controls are format characters): nothing to replace. The common case, at C speed.
        return text
    text = _FORBIDDEN.sub(REPLACEMENT, text)
    return _BIDI.sub(lambda match: f"[U+{ord(match.group()):04X}]", text)


def clean_line(text: str | None, limit: int | None = None) -> str:
    """``clean``, on one line: tabs and line breaks become single spaces (for a name, an id or
    an error message that is printed inside a sentence)."""
    return _LINE_BREAKS.sub(" ", clean(text, limit))


def clean_identity(text: str | None, limit: int = 200) -> str | None:
    """An identity an endpoint reports (model name, ``system_fingerprint``, completion id,
    finish reason) as it is kept: cleaned, on one line, at most ``limit`` characters; ``None``
    stays ``None``."""
    if text is None:
        return None
    if len(text) <= limit and text.isprintable():
        return text
    return clean_line(text[:limit] if len(text) > limit else text)
