"""The fast path's Atom 1.0 reader.

What it cannot read as feedparser would raises
:class:`connectors.fastfields.Refuse`.
"""

from __future__ import annotations

from typing import Any

from connectors.fastfields import (
    ATOM,
    DC,
    FEED_LINK_TYPES,
    Refuse,
    check_mapped,
    element_text,
    nearest_lang,
    set_date,
)

__all__ = ["read_atom"]

_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_HTML_TYPES = ("text/html", "application/xhtml+xml")
# Atom text types read as they are; others are base64 or XML (feedparser's call).
_ATOM_TEXT_TYPES = ("text", "html", "text/plain", "text/html")


def _atom_text(node: Any) -> str:
    if node is None:
        return ""
    if (node.get("type") or "text").strip().lower() not in _ATOM_TEXT_TYPES:
        raise Refuse("xhtml, XML or base64 text construct")
    return element_text(node)


def read_atom(root: Any) -> tuple[dict, list[dict], str] | None:
    """``(feed, entries, "atom10")`` of an Atom 1.0 ``<feed>`` root.

    Raises:
        Refuse: the file holds something not read here as feedparser reads it.
    """
    feed: dict[str, Any] = {"title": _atom_text(root.find(ATOM + "title"))}
    links = [
        {"rel": link.get("rel") or "alternate", "href": link.get("href")}
        for link in root.findall(ATOM + "link")
        if link.get("href")
    ]
    if links:
        feed["links"] = links
    link = _atom_feed_link(root)
    if link is not None:
        feed["link"] = link
    if root.get(_XML_LANG):
        feed["language"] = root.get(_XML_LANG)
    entries = [_atom_entry(entry) for entry in root.findall(ATOM + "entry")]
    return feed, entries, "atom10"


def _atom_feed_link(root: Any) -> str | None:
    """The feed's link as feedparser sets it: the last alternate HTML link, else the first id."""
    link = None
    for child in root:
        if child.tag == ATOM + "link":
            href = child.get("href")
            if not href:
                raise Refuse("feed link without href")
            rel = child.get("rel", "alternate")
            kind = child.get("type", "application/atom+xml" if rel == "self" else "text/html")
            if rel == "alternate" and kind.lower() in FEED_LINK_TYPES:
                link = href
        elif child.tag == ATOM + "id" and link is None:
            link = element_text(child)  # an id with no link before it stands for one
    return link



def _atom_entry(node: Any) -> dict:
    check_mapped(node, atom=True)
    for child in node.iter(ATOM + "*"):
        parent = child.getparent()
        if child is not node and parent is not node and parent.tag != ATOM + "author":
            raise Refuse("nested Atom elements")
        if child.tag == ATOM + "link" and not child.get("href"):
            raise Refuse("link without href")
    if node.find(ATOM + "source") is not None or node.find(".//" + DC + "*") is not None:
        raise Refuse("atom:source or Dublin Core in an Atom entry")
    entry: dict[str, Any] = {}
    title = node.find(ATOM + "title")
    if title is not None:
        entry["title"] = _atom_text(title)
        language = nearest_lang(title)
        if language:
            entry["title_detail"] = {"language": language}
    alternates = []
    for link in node.findall(ATOM + "link"):
        if (link.get("rel") or "alternate") == "alternate" and link.get("href"):
            if (link.get("type") or "text/html").strip().lower() not in _HTML_TYPES:
                raise Refuse("alternate link of another type")
            alternates.append(link.get("href"))
    identifier = node.find(ATOM + "id")
    if identifier is not None:
        entry["id"] = element_text(identifier)
    # feedparser takes an entry's id as its link when it has no alternate link.
    link = alternates[0] if alternates else entry.get("id", "")
    if link:
        entry["link"] = link
    summary = node.find(ATOM + "summary")
    content = node.findall(ATOM + "content")
    if len(content) > 1 or (content and content[0].get("src")):
        raise Refuse("several or external contents")
    if summary is not None:
        entry["summary"] = _atom_text(summary)
        language = nearest_lang(summary)
        if language:
            entry["summary_detail"] = {"language": language}
    if content:
        entry["content"] = [{"value": _atom_text(content[0])}]
        if "summary" not in entry:
            if node.get(_XML_LANG):
                # feedparser's language for this summary is then not the entry's.
                raise Refuse("xml:lang on an entry whose summary is its content")
            entry["summary"] = entry["content"][0]["value"]
            language = nearest_lang(node)  # the entry's language, not the content's own
            if language:
                entry["summary_detail"] = {"language": language}
    authors = node.findall(ATOM + "author")
    if len(authors) > 1:
        raise Refuse("several authors")
    if authors:
        name = element_text(authors[0].find(ATOM + "name"))
        email = element_text(authors[0].find(ATOM + "email"))
        author = f"{name} ({email})" if name and email else name or email
        if author:
            entry["author"] = author
    set_date(entry, "published", element_text(node.find(ATOM + "published")))
    set_date(entry, "updated", element_text(node.find(ATOM + "updated")))
    return entry

