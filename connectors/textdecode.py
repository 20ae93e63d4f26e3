"""Decode a saved feed's bytes to text, choosing the encoding by a measure.

Feeds lie about their encoding, and a parser that trusts a statistical guess
over a nearly valid UTF-8 file throws whole files away: one stray byte in a
Russian UTF-8 feed made chardet call it MacRoman. The rules here, in order:

1. a byte-order mark names the encoding (UTF-8, UTF-16, UTF-32);
2. BOM-less UTF-16/32 is recognised from the ``<?xml`` / ``{`` pattern of
   zero bytes (XML 1.0 appendix F), whatever the declaration says;
3. bytes that are valid UTF-8 are UTF-8, and so are bytes whose valid
   multi-byte UTF-8 characters outnumber their invalid sequences (bytes of a
   legacy encoding seldom form valid UTF-8 by chance: the rest is damage,
   replaced by U+FFFD and counted);
4. otherwise every candidate (UTF-8 with replacement characters, the
   declared encoding, chardet's guess on a bounded sample, and a few common
   legacy encodings) is scored by :func:`badness`. The declared encoding is
   accepted when it scores no worse than UTF-8; any other only when it
   scores at most half of UTF-8's count (and best). UTF-8 is the default.

:func:`badness` counts, in the first 256 KB decoded by each candidate,
things that real text almost never contains and that mojibake is made of:
replacement characters, control, unassigned and private-use characters, a
non-ASCII symbol or punctuation mark between two letters (``Ð¿Ñ€``), and a
lower-case letter followed by a capital inside a word (``РїСЂ``, UTF-8
Cyrillic read as windows-1251). All candidates decode the same bytes, so
the counts compare as rates per byte. chardet only ever sees
:data:`SAMPLE_BYTES` bytes: on 1 MB of
undecodable bytes it took minutes.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass

__all__ = ["SAMPLE_BYTES", "Decoded", "badness", "declared_encoding", "decode_bytes"]

SAMPLE_BYTES = 32 * 1024
# Bytes each candidate is scored on: enough for a stable figure, cheap to classify.
_SCORE_BYTES = 256 * 1024
_FALLBACKS = ("windows-1251", "windows-1252", "koi8-r", "iso-8859-2")
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Appendix F of XML 1.0: the first four bytes of "<?xm" (or "{" for JSON).
_ZERO_PATTERNS = (
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00?\x00", "utf-16-le"),
    (b"\x00<\x00?", "utf-16-be"),
    (b"{\x00", "utf-16-le"),
    (b"\x00{", "utf-16-be"),
)
_DECLARED = re.compile(rb"""^\s*<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9._:-]{1,40})["']""")
_UTF8_NAMES = frozenset({"utf-8", "utf8", "utf_8", "us-ascii", "ascii"})


@dataclass(frozen=True, slots=True)
class Decoded:
    """Decoded text, the encoding used, and what a person should know about it.

    Attributes:
        text: the decoded text (any byte-order mark removed).
        encoding: the codec name used.
        replaced: how many undecodable byte sequences became U+FFFD.
        warning: one line when the choice was not clean, else empty.
    """

    text: str
    encoding: str
    replaced: int = 0
    warning: str = ""


class _Classes(dict):
    """``str.translate`` table: each character to one class letter, computed lazily.

    ``u`` upper, ``l`` lower, ``o`` other letter, ``x`` non-ASCII symbol or
    punctuation, ``b`` bad (replacement, control, unassigned, private use,
    surrogate), ``.`` anything else.
    """

    def __missing__(self, codepoint: int) -> str:
        ch = chr(codepoint)
        category = unicodedata.category(ch)
        if ch == "\ufffd" or (category in ("Cc", "Cn", "Co", "Cs") and ch not in "\t\n\r"):
            value = "b"
        elif category == "Lu" or category == "Lt":
            value = "u"
        elif category == "Ll":
            value = "l"
        elif category[0] == "L":
            value = "o"
        elif codepoint > 0x7F and category[0] in "PS":
            value = "x"
        else:
            value = "."
        self[codepoint] = value
        return value


_CLASSES = _Classes()
_SYMBOL_IN_WORD = re.compile(r"(?<=[ulo])x+(?=[ulo])")
_CAMEL = re.compile(r"l(?=u)")


def badness(text: str) -> int:
    """How many unlikely characters ``text`` holds (0 for clean text).

    See the module docstring for what counts as unlikely. Candidates are
    compared on the same bytes, so the counts compare as rates per byte.
    """
    classes = text.translate(_CLASSES)
    bad = classes.count("b")
    bad += sum(len(m) for m in _SYMBOL_IN_WORD.findall(classes))
    bad += len(_CAMEL.findall(classes))
    return bad


def declared_encoding(data: bytes) -> str | None:
    """The encoding an XML declaration names (lower case), if any."""
    match = _DECLARED.match(data[:256])
    if not match:
        return None
    name = match.group(1).decode("ascii").lower()
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _sniff(data: bytes) -> tuple[str | None, int]:
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name, len(bom)
    for pattern, name in _ZERO_PATTERNS:
        if data.startswith(pattern):
            return name, 0
    return None, 0


def _chardet_guess(data: bytes) -> str | None:
    try:
        import chardet
    except ImportError:  # optional: the fixed candidates still apply
        return None
    # Lines with non-ASCII bytes carry the evidence; the rest only costs time.
    sample = b"\n".join(line for line in data.split(b"\n", 20000) if not line.isascii())
    guess = chardet.detect(sample[:SAMPLE_BYTES] or data[:SAMPLE_BYTES]).get("encoding")
    if not guess:
        return None
    try:
        return codecs.lookup(guess).name
    except LookupError:
        return None


def decode_bytes(data: bytes) -> Decoded:
    """Decode a feed file's bytes by the rules in the module docstring.

    Never raises: the worst case is UTF-8 with replacement characters.
    """
    sniffed, skip = _sniff(data)
    if sniffed:
        text = data[skip:].decode(sniffed, "replace")
        replaced = text.count("\ufffd")
        warning = f"{replaced} undecodable byte sequence(s) in {sniffed}" if replaced else ""
        return Decoded(text, sniffed, replaced, warning)
    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    declared = declared_encoding(data)
    if declared and declared.replace("_", "-") in _UTF8_NAMES:
        declared = None
    utf8 = data.decode("utf-8", "replace")
    invalid = utf8.count("\ufffd")
    valid = len(utf8) - len(utf8.encode("ascii", "ignore")) - invalid
    if valid > invalid:
        # Bytes of a legacy encoding seldom form valid UTF-8 sequences by
        # chance: when most non-ASCII text decodes, the rest is damage.
        warning = f"{invalid} invalid UTF-8 byte sequence(s) replaced"
        return Decoded(utf8, "utf-8", invalid, warning)
    sample = data[:_SCORE_BYTES]
    baseline = badness(sample.decode("utf-8", "replace"))
    best, best_score = "utf-8", baseline
    if declared:
        # The declaration gets the benefit of the doubt: it wins any tie.
        try:
            score = badness(sample.decode(declared, "replace"))
        except LookupError:
            score = baseline + 1
        if score <= baseline:
            best, best_score = declared, score
    if best_score > 0:
        seen = {"utf-8", declared}
        for name in (_chardet_guess(data), *_FALLBACKS):
            if not name or name in seen:
                continue
            seen.add(name)
            score = badness(sample.decode(name, "replace"))
            if score <= baseline / 2 and score < best_score:
                best, best_score = name, score
    best_text = utf8 if best == "utf-8" else data.decode(best, "replace")
    replaced = best_text.count("\ufffd")
    if best == "utf-8":
        warning = f"{replaced} invalid UTF-8 byte sequence(s) replaced"
    elif best == declared and not replaced:
        warning = ""
    else:
        warning = (
            f"not valid UTF-8; decoded as {best} ({best_score} unlikely characters in the"
            f" first {len(sample)} bytes, against {baseline} for UTF-8)"
        )
    return Decoded(best_text, best, replaced, warning)
