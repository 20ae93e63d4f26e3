"""Plain text from feed markup: tags, scripts and entities out, whitespace tidied.

Pure functions, free of Beam: :func:`html_to_text` is what
:func:`transforms.normalise.normalise_item` makes of every title, text and
author, and what article extraction leaves its text through.
"""

from __future__ import annotations

import html
import re
import unicodedata

__all__ = ["html_to_text", "remove_invisible"]

_BLOCK = (
    "p|div|br|li|ul|ol|h[1-6]|tr|table|blockquote|section|article|header|footer|figure|"
    "figcaption|pre|hr|dd|dt|dl|aside|main|nav|td|th"
)
_SKIPPED_NAMES = ("script", "style", "noscript", "template", "svg", "iframe", "object", "math")


def _by_first_letter(names: str) -> str:
    # "p|pre|div" -> "d(?:iv)|p(?:re|)": the regex engine tries the
    # alternatives of a group one by one at every "<"; grouped by first
    # letter, a tag's first letter rules out all groups but one (a quarter
    # less time over real feeds). The same tags match: "\b" after the name
    # leaves exactly one name possible at a position, whatever the order.
    groups: dict[str, list[str]] = {}
    for name in names.split("|"):
        groups.setdefault(name[0], []).append(name[1:])
    return "|".join(
        first + "(?:" + "|".join(sorted(rests, key=len, reverse=True)) + ")"
        for first, rests in sorted(groups.items())
    )


# Feed markup is fragments, not documents: a few C-speed regex passes do what
# an HTML parser does here, about ten times faster than html.parser. Every
# pattern is linear: a tag ends at the first ">" but never runs past a "<"
# (possessive, so nothing is re-tried), which is what made 160 KB of
# "<script " cost minutes when a tag could run to the end of the text.
_COMMENT = re.compile(r"<!--.*?(?:-->|$)|<!\[CDATA\[|\]\]>", re.DOTALL)
_SKIPPED = _by_first_letter("|".join(_SKIPPED_NAMES))
_SKIPPED_OPEN = re.compile(rf"<({_SKIPPED})\b[^<>]*+>", re.IGNORECASE)
_SKIPPED_CLOSE = {
    name: re.compile(rf"</{name}\b[^<>]*+>", re.IGNORECASE) for name in _SKIPPED_NAMES
}
_BLOCK_TAG = re.compile(rf"</?(?:{_by_first_letter(_BLOCK)})\b[^<>]*+>", re.IGNORECASE)
# Case-blind matching costs about twice the time of exact matching, and feed
# tags are nearly always lower case. The exact twins below find the same tags
# in a text where no tag name holds an upper-case letter or one of the four
# other characters that match an ASCII letter case-blind (dotted and dotless
# i, long s, Kelvin sign; the test suite checks the list against every code
# point). _CASED_TAG finds such a name, and more ("<a/B", which only costs
# the case-blind pass); _COMMENT_OR_CASED also finds the "<!" that most
# _COMMENT matches start with (the two cannot overlap).
_CASE_BLIND_ASCII = "\u0130\u0131\u017f\u212a"
_TO_ASCII_LETTER = str.maketrans(_CASE_BLIND_ASCII, "iisk")
_CASED_NAME = rf"[/a-z0-9]*+[A-Z{_CASE_BLIND_ASCII}]"
_CASED_TAG = re.compile(f"<{_CASED_NAME}")
_COMMENT_OR_CASED = re.compile(f"<(?:(!)|{_CASED_NAME})")
# One scan for what makes _strip_tags do more than its two exact-case passes
# (besides a CDATA end): a comment or declaration, a tag name that needs the
# case-blind pass, or a skipped element's opening. Most texts hold none.
# (A pattern that starts with a literal is scanned several times faster than
# one that starts with a choice: "]]>" is looked for apart.)
_NEEDS_MORE = re.compile(rf"<(?:!|{_CASED_NAME}|(?:{_SKIPPED})\b)")
_SKIPPED_OPEN_LOWER = re.compile(rf"<({_SKIPPED})\b[^<>]*+>")
_SKIPPED_CLOSE_LOWER = {name: re.compile(rf"</{name}\b[^<>]*+>") for name in _SKIPPED_NAMES}
_BLOCK_TAG_LOWER = re.compile(rf"</?(?:{_by_first_letter(_BLOCK)})\b[^<>]*+>")
# "</>" and "</ x>" are what a browser drops (or reads as a bogus comment).
# A tag is "<", a letter, "/", "!" or "?", and what follows up to the first ">",
# never past a "<" (written as one branch: a pattern that starts with a
# literal is scanned faster than one that starts with a choice).
_ANY_TAG = re.compile(r"<[a-zA-Z/!?][^<>]*+>")
# What is left of a tag that never closed: a browser reads it as a tag up to
# the next ">", so it is markup, not text.
_BROKEN_TAG = re.compile(r"<[a-zA-Z/!?][^<>]*+>?")
_TAG_RE = re.compile(r"<[a-zA-Z/!?]")
_MAX_ROUNDS = 3
_SPACES = re.compile(r"[ \t\f\v\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_BLANKS = re.compile(r"\n\s*\n\s*")
# Whitespace that str.split() splits on but _SPACES leaves alone, besides "\n".
_OTHER_SPACE = re.compile(r"[\r\x1c-\x1f\x85\u1680\u2028\u2029]")
# Every whitespace character but " " and "\n": what makes _tidy do more than
# collapse runs of spaces and blank lines.
_UNUSUAL_SPACE_CHARS = (
    "\r\t\f\v\x1c-\x1f\x85\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
)
_UNUSUAL_SPACE = re.compile(f"[{_UNUSUAL_SPACE_CHARS}]")
_ODD_SPACE = re.compile(r"[\t\f\v\u00a0\u2000-\u200a\u202f\u205f\u3000]")
_TO_SPACE = {char: " " for char in "\t\f\v\u00a0\u202f\u205f\u3000"}
_TO_SPACE.update({chr(cp): " " for cp in range(0x2000, 0x200B)})
_TO_SPACE_TABLE: dict[int, str | None] = {ord(char): " " for char in _TO_SPACE}
_SPACE_RUN = re.compile(r"  +")
_BLANK_LINES = re.compile(r"\n\n\n+")

# Invisible characters that split a word without showing it ("war\u00adcrimes"
# reads as one word, "war \u2060crimes" as two) are removed; a zero-width
# space is a word break, so it becomes a space; a zero-width (non-)joiner
# is kept between letters (Persian and Indic spelling need it) and removed
# next to whitespace. Bidirectional overrides could make a reviewer read the
# text in another order than the matcher did, so they go too.
_INVISIBLE = {cp: None for cp in (0x00AD, 0x061C, 0x180E, 0x2060, 0x2061, 0x2062, 0x2063, 0x2064)}
_INVISIBLE.update({cp: None for cp in (0xFEFF, 0xFFF9, 0xFFFA, 0xFFFB, 0x200E, 0x200F)})
_INVISIBLE.update({cp: None for cp in range(0x202A, 0x202F)})
_INVISIBLE.update({cp: None for cp in range(0x2066, 0x206A)})
_INVISIBLE.update({cp: None for cp in range(0x20) if chr(cp) not in "\t\n\r\f\v"})
_INVISIBLE.update({cp: None for cp in range(0x7F, 0xA0)})
_INVISIBLE[0x85] = "\n"  # NEL is a line break
_INVISIBLE[0x200B] = " "
# A lone surrogate (JSON's "\ud800" from a social API) cannot be written as
# UTF-8 by any sink: it becomes the replacement character.
_INVISIBLE.update({cp: "\ufffd" for cp in range(0xD800, 0xE000)})
_REPLACEMENT = {chr(cp): "" if new is None else new for cp, new in _INVISIBLE.items()}
# One C-speed scan finds whether there is anything to remove at all: most
# texts have nothing, and str.translate with a table costs a lookup per character.
_INVISIBLE_CHARS = (
    "".join(re.escape(chr(cp)) for cp in sorted(_INVISIBLE) if not 0xD800 <= cp < 0xE000)
    + "\ud800-\udfff"
)
_INVISIBLE_RE = re.compile(f"[{_INVISIBLE_CHARS}]")
_JOINER_AT_SPACE = re.compile(
    r"[\u200c\u200d]+(?=\s)|(?<=\s)[\u200c\u200d]+|^[\u200c\u200d]+|[\u200c\u200d]+$"
)
# Anything remove_invisible or the unusual-space work of _tidy would act on:
# one scan of a text decides that neither has work to do.
_SPECIAL = re.compile(f"[{_INVISIBLE_CHARS}\u200c\u200d{_UNUSUAL_SPACE_CHARS}]")
_ASCII_SPECIAL = tuple(chr(cp) for cp in (*range(0x0A), *range(0x0B, 0x20), 0x7F))
# What remove_invisible acts on: one scan tells it has nothing to do.
_INVISIBLE_OR_JOINER = re.compile(f"[{_INVISIBLE_CHARS}\u200c\u200d]")


def _is_plain(text: str) -> bool:
    """Whether ``text`` holds no character that :data:`_SPECIAL` finds.

    Every such character is one that ``str.isprintable`` refuses, and that
    test costs a fraction of a scan with the pattern, so the pattern only
    looks at texts holding a non-printable character other than a line break.
    In ASCII text (``isascii`` reads a flag) the special characters are the
    controls but "\n": one C-speed ``in`` each is cheaper still.
    """
    if text.isascii():
        for char in _ASCII_SPECIAL:
            if char in text:
                return False
        return True
    if text.replace("\n", " ").isprintable():  # "\n" is not special
        return True
    return not _SPECIAL.search(text)


def _replace_each(
    text: str, found: re.Pattern[str], replacement: dict[str, str], table: dict[int, str | None]
) -> str:
    # One str.replace per distinct character that `found` finds, the first
    # found first: the same as str.translate with the table (no replacement
    # holds a character of the table), without a lookup per character. Text
    # before a match holds none of the characters, so the next search starts
    # there. Past a few distinct characters, translate does the rest.
    match = found.search(text)
    for _ in range(8):
        if not match:
            return text
        char = match.group()
        text = text.replace(char, replacement[char])
        match = found.search(text, match.start())
    return text.translate(table) if match else text


def remove_invisible(text: str) -> str:
    """Remove control and invisible formatting characters (see the table above)."""
    if not _INVISIBLE_OR_JOINER.search(text):
        return text
    text = _replace_each(text, _INVISIBLE_RE, _REPLACEMENT, _INVISIBLE)
    if "\u200c" in text or "\u200d" in text:
        text = _JOINER_AT_SPACE.sub("", text)
    return text


def _tidy(text: str, plain: bool = False) -> str:
    # plain: the text is known to hold no _UNUSUAL_SPACE character (NFC
    # makes none from other characters; the test suite checks every code point).
    if not text.isascii():  # ASCII is NFC already; isascii() reads a flag
        text = unicodedata.normalize("NFC", text)
    if not plain and _UNUSUAL_SPACE.search(text):
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        if _OTHER_SPACE.search(text):
            text = _SPACES.sub(" ", text)
            lines = [line.strip() for line in text.split("\n")]
            return _BLANKS.sub("\n\n", "\n".join(lines)).strip()
        text = _replace_each(text, _ODD_SPACE, _TO_SPACE, _TO_SPACE_TABLE)
    # Only " " and "\n" are left: collapsing runs of spaces, then dropping
    # the space at either end of a line and the third and later line breaks
    # of a run, is what collapsing and stripping each line, joining them and
    # keeping at most one blank line does; a few C scans instead of a split
    # and a join per line.
    if "  " in text:
        text = _SPACE_RUN.sub(" ", text)
    if " \n" in text:
        text = text.replace(" \n", "\n")
    if "\n " in text:
        text = text.replace("\n ", "\n")
    if "\n\n\n" in text:
        text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()


def _drop_skipped(markup: str, lower: bool = False) -> str:
    # Each search starts where the last one ended: linear in the markup.
    # lower: _COMMENT_OR_CASED found no tag name that needs the case-blind pass.
    opener, closers = (
        (_SKIPPED_OPEN_LOWER, _SKIPPED_CLOSE_LOWER) if lower else (_SKIPPED_OPEN, _SKIPPED_CLOSE)
    )
    out: list[str] = []
    position = 0
    while True:
        opening = opener.search(markup, position)
        if not opening:
            break
        out.append(markup[position : opening.start()])
        out.append(" ")
        position = opening.end()
        if opening.group(0).endswith("/>"):
            continue
        name = opening.group(1)
        # The case-blind opener also matches a name holding a non-ASCII twin
        # of an ASCII letter ("<\u017fcript>", "<scr\u0130pt>"), which no lower-casing
        # turns into the table's key: its closing pattern is the ASCII name's.
        closer = closers.get(name) or closers[name.translate(_TO_ASCII_LETTER).lower()]
        closing = closer.search(markup, position)
        if not closing:  # unclosed: everything after it is script
            return "".join(out)
        position = closing.end()
    out.append(markup[position:])
    return "".join(out)


def _strip_tags(markup: str) -> str:
    # One scan usually finds both whether there is a comment and whether a
    # tag name needs the case-blind pass. Removing comments and skipped
    # elements only removes text and puts spaces in, so it makes no tag name
    # that this scan of the input did not see.
    if not _NEEDS_MORE.search(markup) and "]]>" not in markup:
        return _ANY_TAG.sub("", _BLOCK_TAG_LOWER.sub("\n", markup))
    comment = False
    found = _COMMENT_OR_CASED.search(markup)
    if found and found.group(1):
        comment = True
        found = _CASED_TAG.search(markup, found.end())
    lower = found is None
    if comment or "]]>" in markup or (not lower and "<!" in markup):
        markup = _COMMENT.sub(" ", markup)  # "<!" or "]]>" starts every match
    markup = _drop_skipped(markup, lower)
    markup = (_BLOCK_TAG_LOWER if lower else _BLOCK_TAG).sub("\n", markup)
    return _ANY_TAG.sub("", markup)


def html_to_text(markup: str) -> str:
    """Plain text from HTML or from text with entities.

    Block elements become line breaks, scripts, styles and frames vanish with
    their content, entities are decoded, invisible and control characters are
    removed, whitespace is collapsed and the result is NFC-normalised, so
    that character spans computed on it are stable. Markup that only appears
    once entities are decoded (``&lt;script&gt;``), or once tags are removed
    (``<scr<b></b>ipt>``), is removed too: no markup survives. Linear time.
    """
    if not markup:
        return ""
    plain = tagged = False
    for _ in range(_MAX_ROUNDS):
        if _TAG_RE.search(markup):
            markup = _strip_tags(markup)
        # Invisible characters go with the entities, before any tag test:
        # "<\u00adscript>" is a tag once the soft hyphen is gone.
        decoded = html.unescape(markup)
        plain = _is_plain(decoded)
        if not plain:
            decoded = remove_invisible(decoded)
        unchanged = decoded == markup
        markup = decoded
        tagged = _TAG_RE.search(markup) is not None
        if unchanged or not tagged:
            break
    # From here on text is only removed, or replaced by " " and "\n": a plain
    # text stays plain.
    if tagged:
        for _ in range(_MAX_ROUNDS):
            markup = _BROKEN_TAG.sub("", _strip_tags(markup))
            if not _TAG_RE.search(markup):
                break
        else:  # text built to rejoin into a tag round after round
            markup = _TAG_RE.sub(lambda match: match.group(0)[1:], markup)
    return _tidy(markup, plain)
