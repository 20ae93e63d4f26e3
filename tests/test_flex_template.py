"""The Dataflow Flex Template: metadata.json's parameter regexes, and the wheel it installs.

The Dockerfile cannot be built here (its base images are not reachable), so
the wheel it installs stands in for it: built from a copy of the sources,
installed with ``--no-deps`` into a fresh venv whose dependencies come from
the project's venv through a ``.pth`` path line (no download, a few seconds),
and imported there with the checkout off ``sys.path``.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from connectors.pubsub import parse_subscription, parse_topic
from pipelines.options import STREAM_OPTIONS
from transforms.rules import CATEGORIES

REPO = Path(__file__).resolve().parents[1]
METADATA = json.loads((REPO / "deploy" / "metadata.json").read_text(encoding="utf-8"))
PARAMS = {p["name"]: p for p in METADATA["parameters"]}

# name -> (accepted, rejected)
EXAMPLES = {
    "subscription": (
        ["projects/my-project/subscriptions/raw-items", "projects/news-1/subscriptions/raw.v2"],
        ["raw-items", "projects/p/subscriptions/raw", "projects/my-project/topics/raw-items",
         "projects/my-project/subscriptions/ab", "projects/my-project/subscriptions/raw x"],
    ),
    "flagged_topic": (
        ["projects/my-project/topics/flagged-items"],
        ["flagged", "projects/my-project/subscriptions/flagged", "projects/My-Project/topics/f1x",
         "projects/my-project/topics/9lives"],
    ),
    "dead_letter_topic": (
        ["projects/my-project/topics/dead-letters"],
        ["projects/my-project/topics/dl", "gs://bucket/dead"],
    ),
    "output": (
        ["gs://my-bucket/newswatch", "gs://my-bucket"],
        ["/tmp/out", "gs://B/upper", "s3://bucket/x"],
    ),
    "window_seconds": (["300", "60"], ["0", "-5", "5m", "1.5"]),
    "dedup_ttl_seconds": (["604800"], ["0", "7d"]),
    "timestamp_attribute": (["fetched"], ["published", "Fetched"]),
    "id_label": (["item_id"], ["id", "item_id "]),
    "language_backend": (
        ["cascade", "cascade-accurate", "cascade-quick", "cld2", "lingua"],
        ["fasttext", "", "cascade-"],
    ),
    "thresholds": (
        ["investigation=0.6", "war_crime_allegation=0.5,investigation=1", "investigation=0"],
        ["investigation=1.5", "crime=0.5", "investigation=0.5,", "investigation"],
    ),
}  # fmt: skip


def _matches(name: str, value: str) -> bool:
    return all(re.search(rx, value) for rx in PARAMS[name]["regexes"])


def test_parameters_are_the_stream_options():
    assert set(PARAMS) <= set(STREAM_OPTIONS)
    assert set(PARAMS) == set(EXAMPLES)
    required = {n for n, p in PARAMS.items() if not p.get("isOptional")}
    assert required == {"subscription", "flagged_topic"}
    assert METADATA["streaming"] is True
    for param in PARAMS.values():
        assert param["label"] and param["helpText"] and param["regexes"]


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_regexes_accept_and_reject_examples(name):
    accepted, rejected = EXAMPLES[name]
    assert [v for v in accepted if not _matches(name, v)] == []
    assert [v for v in rejected if _matches(name, v)] == []


def test_path_regexes_agree_with_the_validators():
    values = [
        v
        for n in ("subscription", "flagged_topic", "dead_letter_topic")
        for v in sum(EXAMPLES[n], [])
    ]
    for value in values:
        for name, check in (("subscription", parse_subscription), ("flagged_topic", parse_topic)):
            try:
                check(value)
                valid = True
            except ValueError:
                valid = False
            assert _matches(name, value) == valid, (name, value)


def test_every_category_is_accepted_in_thresholds():
    for category in CATEGORIES:
        assert _matches("thresholds", f"{category}=0.5")


def test_wheel_installs_into_a_clean_venv_and_imports_the_pipeline(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copy(REPO / "pyproject.toml", source)
    shutil.copy(REPO / "README.md", source)
    packages = re.search(r"^packages = \[(.*)\]", (REPO / "pyproject.toml").read_text(), re.M)
    for package in re.findall(r'"([^"]+)"', packages.group(1)):
        shutil.copytree(REPO / package, source / package, ignore=ignore)
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(dist), str(source)],
        check=True, cwd=tmp_path, capture_output=True,
    )  # fmt: skip
    (wheel,) = dist.glob("newswatch-*.whl")

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    # Dependencies (and pip) from the project's venv, as a plain path: its own
    # .pth files, among them the editable install of the checkout, stay unread.
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "-q", str(wheel)],
        check=True, cwd=tmp_path, capture_output=True,
    )  # fmt: skip
    code = (
        "import apache_beam as beam, pipelines, pipelines.launch\n"
        "from pipelines.streaming import StreamConfig, build_stream\n"
        "from transforms.rules import RuleEngine\n"
        "RuleEngine.load()\n"
        "p = beam.Pipeline()\n"
        "build_stream(p, StreamConfig('projects/newswatch-test/subscriptions/raw',"
        " 'projects/newswatch-test/topics/flagged'))\n"
        "print(pipelines.__file__)\n"
    )
    out = subprocess.run(
        [str(python), "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().startswith(site), out.stdout


def test_worker_image_sdk_matches_the_pinned_beam():
    """The workers' boot binary comes from Beam's SDK image of the pinned version."""
    pinned = re.search(
        r'"apache-beam\[gcp\]==([0-9.]+)"', (REPO / "pyproject.toml").read_text(encoding="utf-8")
    )
    image = re.search(
        r"beam_python3\.11_sdk:([0-9.]+)", (REPO / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    )
    assert pinned and image
    assert image.group(1) == pinned.group(1)
