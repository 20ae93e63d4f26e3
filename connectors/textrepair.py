"""feedparser's two repairs of the text it reads, for the fast feed path.

feedparser's last two steps on every text it reads, in its order: text that
is all Latin-1 and whose Latin-1 bytes are valid UTF-8 was UTF-8 read as
Latin-1 ("Ã©" becomes "é"), and C1 controls are Windows-1252 code points
(U+0092 becomes U+2019). :func:`as_feedparser` takes the same two steps;
:func:`repairs_for` tells from a document's bytes which of them its text
can need at all, and :data:`REPAIRS` holds that answer for the document
being read (:func:`connectors.fastfeed.fast_parse` sets it).
"""

from __future__ import annotations

import re
from contextvars import ContextVar

__all__ = ["REPAIRS", "as_feedparser", "repairs_for"]

_C1 = re.compile("[\u0080-\u009f]")
_CP1252 = {
    code: bytes([code]).decode("cp1252")
    for code in range(0x80, 0xA0)
    if code not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)  # undefined in Windows-1252
}
# A text can change in those steps only if it holds a C1 control, or a UTF-8
# lead character (U+00C2-U+00F4) right before another character. These
# patterns find every place in the bytes lxml reads where either can come
# from: the UTF-8 of the characters themselves, a lead character before a
# continuation character (U+0080-U+00BF), a character reference, or the
# boundaries lxml joins text across (CDATA, comments, processing
# instructions). A document with no match has no text to repair, and
# none is scanned. Patterns that start with a rare literal byte are scanned
# fastest ("#" is rarer than "&" in escaped markup).
_HIGH_REFERENCE = re.compile(  # to U+0080-U+00FF, and more
    rb"#(?<=&#)(?:0*(?:1[2-9][0-9]|2[0-5][0-9])|[xX]0*[89a-fA-F][0-9a-fA-F]);"
)
_C1_REFERENCE = re.compile(rb"#(?<=&#)(?:0*(?:12[89]|1[3-5][0-9])|[xX]0*[89][0-9a-fA-F]);")
_LEAD_BEFORE = re.compile(rb"\xc3[\x82-\xb4](?:\xc2[\x80-\xbf]|<[!?]|\]\]>|&#)")
_C1_UTF8 = re.compile(rb"\xc2[\x80-\x9f]")
# For the document being read: (may hold UTF-8 read as Latin-1, may hold C1 controls).
REPAIRS: ContextVar[tuple[bool, bool]] = ContextVar("_REPAIRS", default=(True, True))


def repairs_for(body: bytes) -> tuple[bool, bool]:
    """Whether text in the document ``body`` may hold UTF-8 read as Latin-1, and C1 controls."""
    # Each pattern starts with one literal byte: a memchr for it (about a
    # twentieth of a pattern scan) skips the scan in most documents.
    high = b"#" in body and _HIGH_REFERENCE.search(body) is not None
    latin1 = high or (b"\xc3" in body and _LEAD_BEFORE.search(body) is not None)
    c1 = (b"\xc2" in body and _C1_UTF8.search(body) is not None) or (
        high and _C1_REFERENCE.search(body) is not None
    )
    return latin1, c1


def as_feedparser(value: str) -> str:
    """A non-ASCII text as feedparser's two repairs leave it."""
    latin1, c1 = REPAIRS.get()
    if latin1:
        try:
            value = value.encode("iso-8859-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    if c1 and _C1.search(value):
        value = value.translate(_CP1252)
    return value

