"""The review desk: a web page where reviewers work through flagged items.

``newswatch review serve`` runs it (:mod:`pipelines.commands.review`). It reads
and writes the review store only through :mod:`connectors.store` and
:mod:`connectors.store_queries`, and serves every asset itself (no CDN).
"""

from __future__ import annotations

from desk.app import create_app
from desk.config import DeskConfig

__all__ = ["DeskConfig", "create_app"]
