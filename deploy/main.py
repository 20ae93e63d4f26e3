"""Flex Template entry: build the newswatch streaming graph and submit it to Dataflow."""

from __future__ import annotations

import logging
import sys

from pipelines.launch import main

__all__: list[str] = []

if __name__ == "__main__":
    logging.getLogger().setLevel(logging.INFO)
    sys.exit(main())
