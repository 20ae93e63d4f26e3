"""Start-up costs: the slow language model loads only when a text needs it; packs compile once."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from transforms.flagging import Flagging, _FlagFn, shared_engine
from transforms.rules import PACKS_DIR

ROOT = Path(__file__).resolve().parents[1]

_PROBE = """
import json, sys
from transforms.language import _DetectFn, make_detector
fn = _DetectFn("cascade")
fn.setup()
cascade = fn._detector
paragraph = (
    "Investigators said on Tuesday that they had gathered evidence of the deliberate "
    "shelling of a hospital, and witnesses described soldiers detaining civilians."
)
first = cascade.detect(paragraph)
before = ("lingua" in sys.modules, cascade._accurate.loaded)
second = cascade.detect("Vojni zločini")
after = ("lingua" in sys.modules, cascade._accurate.loaded)
print(json.dumps([first[0], before, second[0], after, cascade.fallbacks]))
"""


def test_cascade_loads_lingua_only_for_the_first_text_that_needs_it():
    # A fresh interpreter: other tests in this session have loaded lingua already.
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    first, before, second, after, fallbacks = json.loads(out.strip().splitlines()[-1])
    assert first == "en" and before == [False, False]
    assert second != "en" and after == [True, True] and fallbacks == 1


def test_packs_compile_once_per_process_and_again_when_edited(tmp_path):
    assert shared_engine(str(PACKS_DIR), {}) is shared_engine(str(PACKS_DIR), {})
    flagging = Flagging()
    fn = _FlagFn(flagging._packs_dir, flagging._thresholds)
    fn.setup()
    assert fn._engine is shared_engine(str(PACKS_DIR), {})
    assert shared_engine(str(PACKS_DIR), {"investigation": 0.6}) is not fn._engine

    packs = tmp_path / "packs"
    packs.mkdir()
    pack = packs / "en.yaml"
    source = (PACKS_DIR / "en.yaml").read_text(encoding="utf-8")
    pack.write_text(source, encoding="utf-8")
    first = shared_engine(str(packs), {})
    assert shared_engine(str(packs), {}) is first
    pack.write_text(source + "\n# edited\n", encoding="utf-8")
    assert shared_engine(str(packs), {}) is not first
