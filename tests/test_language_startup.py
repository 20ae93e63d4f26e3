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
fn = _DetectFn(sys.argv[1])
fn.setup()
cascade = fn._detector
paragraph = (
    "Investigators said on Tuesday that they had gathered evidence of the deliberate "
    "shelling of a hospital, and witnesses described soldiers detaining civilians."
)
steps = []
for text in (paragraph, "Следователи опросили свидетелей.", "Vojni zločini"):
    code = cascade.detect(text)[0]
    steps.append([code, "lingua" in sys.modules, *cascade.loaded, cascade.escalated])
print(json.dumps(steps))
"""


def _probe(backend: str) -> list:
    # A fresh interpreter: other tests in this session have loaded lingua already.
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, backend], cwd=ROOT, capture_output=True, text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_cascade_loads_lingua_only_for_the_first_text_that_needs_it():
    paragraph, agreed, disputed = _probe("cascade")
    assert paragraph == ["en", False, False, False, 0]
    # CLD2's best guess agrees with the low-accuracy mode: its models alone load.
    assert agreed == ["ru", True, True, False, 0]
    # They disagree: the high-accuracy mode decides, and only now loads.
    assert disputed[0] != "en" and disputed[1:] == [True, True, True, 1]


def test_accurate_cascade_loads_only_the_high_accuracy_models():
    paragraph, agreed, disputed = _probe("cascade-accurate")
    assert paragraph == ["en", False, False, False, 0]
    assert agreed == ["ru", True, False, True, 1]
    assert disputed[1:] == [True, False, True, 2]


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
