"""Every name a package or module promises in ``__all__`` exists."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

PACKAGES = ("transforms", "connectors", "pipelines")


def modules():
    for package in PACKAGES:
        yield package
        pkg = importlib.import_module(package)
        for info in pkgutil.iter_modules(pkg.__path__):
            yield f"{package}.{info.name}"


@pytest.mark.parametrize("name", sorted(modules()))
def test_all_names_exist(name):
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{name} has no __all__"
    missing = [n for n in exported if not hasattr(module, n)]
    assert missing == []
    assert len(set(exported)) == len(exported)


@pytest.mark.parametrize(
    "module",
    [
        "transforms.item",
        "transforms.normalise",
        "connectors.feeds",
        "connectors.errors",
        "transforms",
        # The detectors, and the model server started for every machine's first escalation.
        "transforms.language",
        "transforms.language_server",
    ],
)
def test_record_and_readers_import_without_beam(module):
    # The poller and the desk read and write items; they must not pay for Beam.
    import subprocess
    import sys

    code = f"import sys, {module}; print('apache_beam' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
