"""Take the document type declaration out of a feed before any XML parser sees it.

A DOCTYPE is how XML attacks arrive: entities that expand to gigabytes
(billion laughs, or one long entity referenced thousands of times), external
entities that read local files or fetch URLs, and external DTDs. Feeds have
no use for any of it, so no parser here is ever handed a declaration:
feedparser's strict path (expat) and its loose path (sgmllib) both see a
document without DOCTYPE or ENTITY declarations at all.

The few feeds that declare a harmless shorthand (``<!ENTITY nbsp "&#160;">``)
keep it: an internal general entity whose value is literal text (character
references allowed, references to other entities not) is substituted here,
in plain string replacement, until :data:`EXPANSION_CAP` characters have
been added; further references stay as they are, and every declaration that
was not honoured is reported as a warning. Nested, parameter and external
entities are never honoured.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["EXPANSION_CAP", "MAX_ENTITY_CHARS", "Guarded", "strip_doctype"]

EXPANSION_CAP = 100_000
MAX_ENTITY_CHARS = 1024
_DOCTYPE = re.compile(r"<!DOCTYPE", re.IGNORECASE)
_ENTITY = re.compile(
    r"""<!ENTITY\s+(%\s+)?([A-Za-z_][\w.:-]*)\s+(?:"([^"]*)"|'([^']*)'|(SYSTEM|PUBLIC)\b[^>]*+)\s*>"""
)
_CHAR_REF = re.compile(r"&#(?:[0-9]{1,7}|x[0-9A-Fa-f]{1,6});")
# Declarations anywhere after the prolog (a parser would reject them, but the
# loose parser reads on) are escaped into text, in one linear pass, so that
# nothing downstream can honour them.
_STRAY = re.compile(r"<!(?=(?:DOCTYPE|ENTITY)\b)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Guarded:
    """A document without declarations, and what was done to it.

    Attributes:
        text: the document, DOCTYPE removed, safe entities substituted.
        netscape: the DOCTYPE named Netscape's RSS 0.91 (for the version).
        warning: one line when declarations were dropped or the cap was hit.
    """

    text: str
    netscape: bool = False
    warning: str = ""


def _prolog_doctype(text: str) -> int | None:
    """Where the DOCTYPE of the prolog starts, skipping comments and processing instructions."""
    position = 0
    while True:
        opening = text.find("<", position)
        if opening == -1:
            return None
        for start, end in (("<!--", "-->"), ("<?", "?>")):
            if text.startswith(start, opening):
                close = text.find(end, opening + len(start))
                if close == -1:
                    return None
                position = close + len(end)
                break
        else:
            # The first thing that is neither: the DOCTYPE, or the root element.
            return opening if _DOCTYPE.match(text, opening) else None


def _doctype_end(text: str, start: int) -> int:
    close = text.find(">", start)
    bracket = text.find("[", start)
    if bracket != -1 and (close == -1 or bracket < close):
        end = text.find("]", bracket)
        close = text.find(">", end) if end != -1 else -1
    return len(text) if close == -1 else close + 1


def _safe_entities(subset: str) -> tuple[dict[str, str], list[str]]:
    kept: dict[str, str] = {}
    dropped: list[str] = []
    for match in _ENTITY.finditer(subset):
        parameter, name, double, single, external = match.groups()
        value = double if double is not None else single
        if parameter or external or value is None:
            dropped.append(name)
            continue
        if len(value) > MAX_ENTITY_CHARS or "&" in _CHAR_REF.sub("", value) or "%" in value:
            dropped.append(name)
            continue
        kept[name] = value
    return kept, dropped


def _substitute(body: str, entities: dict[str, str]) -> tuple[str, int, bool]:
    budget = EXPANSION_CAP
    pattern = re.compile("&(" + "|".join(re.escape(n) for n in entities) + ");")
    hit_cap = False

    def expand(match: re.Match[str]) -> str:
        nonlocal budget, hit_cap
        value = entities[match.group(1)]
        if len(value) > budget:
            hit_cap = True
            return match.group(0)
        budget -= len(value)
        return value

    out = pattern.sub(expand, body)
    return out, EXPANSION_CAP - budget, hit_cap


def strip_doctype(text: str) -> Guarded:
    """Remove DOCTYPE and ENTITY declarations; substitute harmless entities.

    Args:
        text: the decoded document.

    Returns:
        The document ready for an XML parser that will find no declarations.
    """
    start = _prolog_doctype(text)
    if start is None and not _STRAY.search(text):
        return Guarded(text)  # the same object: callers may test for "unchanged"
    warnings = []
    netscape = False
    entities: dict[str, str] = {}
    if start is not None:
        end = _doctype_end(text, start)
        declaration = text[start:end]
        netscape = "netscape" in declaration.lower()
        entities, dropped = _safe_entities(declaration)
        if dropped:
            warnings.append(
                f"{len(dropped)} entity declaration(s) ignored (external, parameter, nested"
                f" or longer than {MAX_ENTITY_CHARS}): {', '.join(dropped[:5])}"
            )
        text = text[:start] + text[end:]
    if _STRAY.search(text):
        text = _STRAY.sub("&lt;!", text)
        warnings.append("declarations after the prolog kept as text")
    if entities:
        text, _added, hit_cap = _substitute(text, entities)
        if hit_cap:
            warnings.append(
                f"entity expansion stopped at the cap of {EXPANSION_CAP} characters;"
                " further references left unexpanded"
            )
    return Guarded(text, netscape, "; ".join(warnings))
