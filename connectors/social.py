"""What the social connectors share: option checks, timestamps, entry reading, poll results.

Every social connector reads one response into *entries*: ``(key, item)``
pairs where ``key`` orders the entry in the source's own sequence (a status
id, a message id, a fullname, a time). ``parse`` keeps the items;
``poll`` keeps the entries after its cursor and moves the cursor to the
largest key it emitted. Items leave ``poll`` normalised by the same function
the replay uses, so a live run and a replay of its archive give the same ids.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from connectors.base import Page, PollResult, SourceConfig
from connectors.errors import PermanentError, TransientError
from transforms.item import DeadLetter, Item
from transforms.normalise import normalise_or_reason

if TYPE_CHECKING:
    from connectors.http import Fetcher, Response

__all__ = [
    "RAW_EXCERPT",
    "Entries",
    "base_url",
    "bounded_int",
    "dead_response",
    "env_secret",
    "iso_utc",
    "json_body",
    "language_hint",
    "post_for_token",
    "raw_json",
    "require_str",
    "seconds_until",
    "to_poll_result",
]

RAW_EXCERPT = 4000
K = TypeVar("K")


@dataclass(slots=True)
class Entries:
    """One response read into ordered entries (see the module docstring).

    Attributes:
        entries: ``(key, raw item)`` in the order the response lists them.
        dead_letters: entries that could not become items.
        next_page: where older entries continue (URL or cursor token), if anywhere.
        status: ``parsed``, ``empty`` or ``dead_letter``.
    """

    entries: list[tuple[Any, Item]] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    next_page: str | None = None
    status: str = "parsed"

    def page(self) -> Page:
        status = self.status
        if status == "parsed" and not self.entries and not self.dead_letters:
            status = "empty"
        return Page(
            items=tuple(item for _, item in self.entries),
            dead_letters=tuple(self.dead_letters),
            next_page=self.next_page,
            status=status,
        )

    def add(self, path: str, raw: Any, build: Callable[[], tuple[Any, Item]]) -> None:
        """Append ``build()``'s entry, or a dead letter naming why it failed."""
        try:
            self.entries.append(build())
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            self.dead_letters.append(
                DeadLetter(
                    stage="parse",
                    reason=f"unreadable entry: {type(exc).__name__}: {exc}",
                    path=path,
                    raw=raw_json(raw)[:RAW_EXCERPT],
                )
            )


# --- option checks: pure, raise ValueError naming the key and showing the value


def require_str(config: SourceConfig, key: str, pattern: str | None = None) -> str:
    """The option ``key`` as a non-empty string (matching ``pattern``, if given).

    Raises:
        ValueError: missing, not a string, or not matching.
    """
    value = config.options.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{key} must be set (got {value!r})")
    value = value.strip()
    if pattern and not re.fullmatch(pattern, value):
        raise ValueError(f"{key} must match {pattern} (got {value!r})")
    return value


def bounded_int(config: SourceConfig, key: str, default: int, low: int, high: int) -> int:
    """The option ``key`` as an int in ``[low, high]``, or ``default`` when absent.

    Raises:
        ValueError: present but not an int in range.
    """
    value = config.options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{key} must be an integer from {low} to {high} (got {value!r})")
    return value


def base_url(config: SourceConfig, default: str) -> str:
    """The API base: the ``base_url`` option, else the source's ``url``, else ``default``.

    Raises:
        ValueError: not an absolute http(s) URL.
    """
    value = config.options.get("base_url") or config.url or default
    if not isinstance(value, str) or not re.match(r"^https?://[^/\s]+", value):
        raise ValueError(f"base_url must be an http(s) URL (got {value!r})")
    return value.rstrip("/")


def env_secret(name: str) -> str | None:
    """A credential from the environment (never from the sources file), or None."""
    value = os.environ.get(name, "").strip()
    return value or None


# --- reading values


def iso_utc(value: Any, precise: bool = False) -> str | None:
    """UTC ISO 8601 with ``Z`` from an ISO string (any offset, any fraction) or epoch seconds.

    ``precise`` keeps microseconds, for cursors that compare times as strings.
    Returns None for anything unreadable or out of range (year 0, NaN ...).
    """
    try:
        if isinstance(value, bool) or value is None:
            return None
        if isinstance(value, int | float):
            when = datetime.fromtimestamp(float(value), UTC)
        elif isinstance(value, str):
            text = value.strip().replace("z", "Z")
            if text.endswith("Z"):
                text = text[:-1] + "+00:00"
            # fromisoformat wants 0, 3 or 6 fraction digits before 3.11's
            # relaxed parser; trim longer fractions (nanoseconds) to 6.
            text = re.sub(r"(\.\d{6})\d+", r"\1", text)
            when = datetime.fromisoformat(text)
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            when = when.astimezone(UTC)
        else:
            return None
    except (ValueError, OverflowError, OSError):
        return None
    if precise:
        return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def language_hint(*values: Any) -> str | None:
    """The first usable language tag, reduced to its primary subtag (``pt-BR`` -> ``pt``)."""
    for value in values:
        if isinstance(value, list | tuple):
            value = next((v for v in value if isinstance(v, str) and v.strip()), None)
        if isinstance(value, str) and value.strip():
            return value.strip().replace("_", "-").split("-")[0].lower()
    return None


def raw_json(value: Any) -> str:
    """Canonical JSON of an entry, for ``raw_sha256`` and dead-letter excerpts."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def json_body(response: Response) -> Any:
    """The response body as JSON.

    Raises:
        ValueError: not JSON (the caller turns it into a dead letter).
    """
    try:
        return json.loads(response.body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"body is not JSON: {exc}") from None


def dead_response(response: Response, reason: str) -> Entries:
    """A whole response that could not be read, as one file-level dead letter."""
    letter = DeadLetter(
        stage="parse",
        reason=reason,
        path=response.url,
        kind="file",
        raw=response.body[:RAW_EXCERPT].decode("utf-8", "replace"),
    )
    return Entries(dead_letters=[letter], status="dead_letter")


def seconds_until(when: Any, now: datetime | None = None) -> float | None:
    """Seconds from ``now`` until an ISO 8601 time (a rate-limit reset), never negative."""
    stamp = iso_utc(when, precise=True)
    if stamp is None:
        return None
    target = datetime.fromisoformat(stamp)
    now = now or datetime.now(UTC)
    return max(0.0, (target - now).total_seconds())


# --- poll results


def to_poll_result(
    entries: Iterable[tuple[K, Item]],
    cursor: str | None,
    *,
    encode: Callable[[K], str],
    dead_letters: Iterable[DeadLetter] = (),
    retry_after: float | None = None,
    fetches: int = 1,
) -> PollResult:
    """Normalise the entries (oldest first) and move the cursor past the largest key.

    Entries are de-duplicated by key: pages fetched moments apart can overlap.
    An entry that fails normalisation becomes a dead letter, and the cursor
    still moves past it (it will not get better by asking again).
    """
    by_key: dict[Any, Item] = {}
    for key, item in entries:
        by_key.setdefault(key, item)
    items: list[Item] = []
    letters = list(dead_letters)
    for key in sorted(by_key):
        item = by_key[key]
        result = normalise_or_reason(item)
        if isinstance(result, str):
            letters.append(
                DeadLetter(
                    stage="normalise",
                    reason=result,
                    path=item.origin or item.source.url,
                    raw=(item.guid or "")[:RAW_EXCERPT],
                )
            )
        else:
            items.append(result)
    if by_key:
        cursor = encode(max(by_key))
    return PollResult(
        items=tuple(items),
        cursor=cursor,
        retry_after=retry_after,
        dead_letters=tuple(letters),
        fetches=fetches,
    )


async def post_for_token(
    fetcher: Fetcher,
    url: str,
    *,
    data: Mapping[str, str] | None = None,
    json_payload: Mapping[str, str] | None = None,
    auth: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """POST a credential exchange (a session, an OAuth token) and return its JSON.

    The exchange goes through the fetcher's client but deliberately not
    through its archive: a token response is a secret and must never reach
    a WARC file or a log. Errors name the URL and status, never the body.

    Raises:
        TransientError: 429/5xx, timeouts, connection failures.
        PermanentError: any other failure (wrong credentials, not JSON).
    """
    client: httpx.AsyncClient = getattr(fetcher, "client", None) or fetcher._client
    try:
        resp = await client.post(url, data=data, json=json_payload, auth=auth)
    except httpx.TimeoutException:
        raise TransientError("credential exchange timed out", url=url) from None
    except httpx.TransportError as exc:
        raise TransientError(f"credential exchange failed: {type(exc).__name__}", url=url) from None
    if resp.status_code == 429 or resp.status_code >= 500:
        raise TransientError(
            f"credential exchange: HTTP {resp.status_code}", url=url, status=resp.status_code
        )
    if resp.status_code != 200:
        raise PermanentError(
            f"credential exchange refused: HTTP {resp.status_code}",
            url=url,
            status=resp.status_code,
        )
    try:
        out = resp.json()
    except ValueError:
        raise PermanentError("credential exchange: response is not JSON", url=url) from None
    if not isinstance(out, dict):
        raise PermanentError("credential exchange: response is not a JSON object", url=url)
    return out
