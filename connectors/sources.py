"""The sources file: what the poller watches, as :class:`~connectors.base.SourceConfig` records.

Two formats are read:

* YAML, a list of mappings, one per source::

      - name: BBC World
        kind: feed
        url: https://feeds.bbci.co.uk/news/world/rss.xml
        country: GB
        language: en
        affiliation: public broadcaster
      - name: ukraine-hashtag
        kind: mastodon
        url: https://mastodon.social
        hashtag: ukraine

  ``name`` and ``kind`` are required; ``url`` or the kind's own keys say what
  to fetch; ``country``, ``language`` and ``affiliation`` are optional and are
  copied onto every item of the source.
* OPML (``.opml``, or any file that starts with ``<``), read with listparser:
  every outline with an ``xmlUrl`` is a ``feed`` source named by its title.

A mistake is reported as one line naming the file, the line and the field,
e.g. ``sources.yaml:12: kind must be one of [...] (got 'rss')``.
"""

from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import urlsplit

import yaml

from connectors.base import KINDS, SourceConfig, connector_class

__all__ = ["COMMON_KEYS", "SourcesError", "load_sources", "parse_sources"]

# Keys every kind understands; any other key is the kind's own (its connector checks it).
COMMON_KEYS = ("name", "kind", "url", "country", "language", "affiliation")

_COUNTRY = re.compile(r"^[A-Za-z]{2}$")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")


class SourcesError(ValueError):
    """A sources file that cannot be used; the message is ``file:line: what is wrong``."""


def load_sources(path: str | os.PathLike[str]) -> list[SourceConfig]:
    """Read and validate a sources file (YAML or OPML).

    Args:
        path: the file.

    Raises:
        SourcesError: the file is missing, unreadable or has a mistake; the
            message names the line and the field.
    """
    name = os.fspath(path)
    try:
        with open(name, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise SourcesError(f"{name}: cannot read sources file: {exc.strerror or exc}") from None
    return parse_sources(data, name)


def parse_sources(data: bytes, name: str = "sources.yaml") -> list[SourceConfig]:
    """Sources from the bytes of a sources file; ``name`` is used in messages.

    Raises:
        SourcesError: see :func:`load_sources`.
    """
    head = data.lstrip()[:1]
    if name.lower().endswith((".opml", ".xml")) or head == b"<":
        sources = _from_opml(data, name)
    else:
        sources = _from_yaml(data, name)
    if not sources:
        raise SourcesError(f"{name}: no sources in the file")
    seen: dict[str, int | None] = {}
    for source in sources:
        if source.name in seen:
            raise SourcesError(
                f"{name}:{source.line}: name {source.name!r} is already used"
                f" on line {seen[source.name]}; names must be unique"
            )
        seen[source.name] = source.line
    return sources


def _from_yaml(data: bytes, name: str) -> list[SourceConfig]:
    try:
        root = yaml.compose(data.decode("utf-8"), Loader=yaml.SafeLoader)
    except UnicodeDecodeError as exc:
        raise SourcesError(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{name}:{mark.line + 1}" if mark is not None else name
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SourcesError(f"{where}: not valid YAML: {problem}") from None
    if root is None:
        return []
    if not isinstance(root, yaml.SequenceNode):
        raise SourcesError(
            f"{name}:{root.start_mark.line + 1}: the file must be a YAML list of sources"
            " (each item a mapping with name, kind, url ...)"
        )
    return [_from_node(node, name) for node in root.value]


def _from_node(node: yaml.Node, name: str) -> SourceConfig:
    line = node.start_mark.line + 1
    if not isinstance(node, yaml.MappingNode):
        raise SourcesError(f"{name}:{line}: each source must be a mapping (name: ..., kind: ...)")
    values: dict[str, Any] = {}
    lines: dict[str, int] = {}
    merged: list[tuple[yaml.Node, int]] = []
    for key_node, value_node in node.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        key_line = key_node.start_mark.line + 1
        if key == "<<":
            # ``<<: *defaults`` shares keys between sources; keys given here win.
            parts = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            merged += [(part, key_line) for part in parts]
            continue
        if not isinstance(key, str) or not key:
            raise SourcesError(f"{name}:{key_line}: keys must be plain names")
        if key in values:
            raise SourcesError(f"{name}:{key_line}: {key} is given twice")
        values[key] = _construct(value_node, name, key)
        lines[key] = key_line
    for part, key_line in merged:
        extra = _construct(part, name, "<<")
        if not isinstance(extra, dict):
            raise SourcesError(f"{name}:{key_line}: <<: must name a mapping")
        for key, value in extra.items():
            if key not in values:
                values[key] = value
                lines[key] = key_line
    try:
        return _config(values, lines, line)
    except _FieldError as exc:
        raise SourcesError(f"{name}:{exc.line}: {exc.message}") from None


def _construct(node: yaml.Node, name: str, key: str) -> Any:
    try:
        return yaml.SafeLoader("").construct_object(node, deep=True)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SourcesError(f"{name}:{node.start_mark.line + 1}: {key}: {problem}") from None


class _FieldError(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def _config(values: dict[str, Any], lines: dict[str, int], line: int) -> SourceConfig:
    def text(key: str, required: bool = False) -> str | None:
        value = values.get(key)
        if value is None:
            if required:
                raise _FieldError(line, f"{key} is required")
            return None
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise _FieldError(lines[key], f"{key} must be text (got {value!r})")
        value = str(value).strip()
        if not value:
            raise _FieldError(lines[key], f"{key} must not be empty")
        return value

    name = text("name", required=True)
    kind = text("kind", required=True)
    if kind not in KINDS:
        raise _FieldError(lines["kind"], f"kind must be one of {list(KINDS)} (got {kind!r})")
    url = text("url")
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise _FieldError(lines["url"], f"url must be an http(s) URL (got {url!r})")
    country = text("country")
    if country is not None:
        if not _COUNTRY.match(country):
            raise _FieldError(
                lines["country"], f"country must be an ISO 3166-1 alpha-2 code (got {country!r})"
            )
        country = country.upper()
    language = text("language")
    if language is not None and not _LANGUAGE.match(language):
        raise _FieldError(
            lines["language"],
            f"language must be a language code like en or pt-BR (got {language!r})",
        )
    options = {k: v for k, v in values.items() if k not in COMMON_KEYS}
    config = SourceConfig(
        name=name,  # type: ignore[arg-type]
        kind=kind,  # type: ignore[arg-type]
        url=url,
        country=country,
        language=language,
        affiliation=text("affiliation"),
        options=options,
        line=line,
    )
    try:
        connector_class(kind).check(config)
    except ValueError as exc:
        raise _FieldError(_line_of(str(exc), lines, line), str(exc)) from None
    return config


def _line_of(message: str, lines: dict[str, int], default: int) -> int:
    """The line of the key a connector's message starts with, else the source's line."""
    head = re.match(r"[\w-]+", message)
    return lines.get(head.group(0), default) if head else default


def _from_opml(data: bytes, name: str) -> list[SourceConfig]:
    import listparser

    result = listparser.parse(data)
    if result.get("bozo") and not result.feeds:
        reason = result.get("bozo_exception") or "not OPML"
        raise SourcesError(f"{name}: not a readable OPML file: {reason}")
    text = data.decode("utf-8", "replace")
    sources: list[SourceConfig] = []
    names: dict[str, int] = {}
    for feed in result.feeds:
        url = (feed.get("url") or "").strip()
        line = _opml_line(text, url)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SourcesError(f"{name}:{line}: xmlUrl must be an http(s) URL (got {url!r})")
        title = (feed.get("title") or "").strip() or url
        # Titles repeat across OPML exports more often than in hand-written files;
        # the URL keeps a repeated title unique.
        if title in names:
            title = f"{title} ({url})"
        names[title] = line
        sources.append(SourceConfig(name=title, kind="feed", url=url, line=line))
    return sources


def _opml_line(text: str, url: str) -> int:
    # listparser does not keep positions; the first outline naming the URL is the line.
    escaped = url.replace("&", "&amp;")
    for needle in (f'"{escaped}"', f'"{url}"', f"'{escaped}'", f"'{url}'", escaped, url):
        at = text.find(needle)
        if at >= 0:
            return text.count("\n", 0, at) + 1
    return 1
