"""The streaming state's integer candidate keys and the packed fingerprint, against their specs."""

from __future__ import annotations

import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.dedup_state import _TITLE_KEY, DedupState
from transforms.neardup import NUM_PERM, Fingerprint, NearConfig, candidate_keys

samples16 = st.lists(st.integers(0, 0xFFFF), max_size=20, unique=True).map(
    lambda values: tuple(sorted(values))
)
fingerprints = st.builds(
    Fingerprint,
    signature=st.binary(min_size=NUM_PERM, max_size=NUM_PERM),
    size=st.integers(0, 0xFFFF),
    title=samples16,
    figures=samples16,
    text_figures=samples16,
)


@st.composite
def configs(draw) -> NearConfig:
    rows = draw(st.integers(1, 8))
    bands = draw(st.integers(1, NUM_PERM // rows))
    return NearConfig(bands=bands, rows=rows, min_shingles=draw(st.integers(1, 40)))


@settings(max_examples=300, deadline=None)
@given(fp=fingerprints, config=configs())
def test_near_keys_are_the_candidate_keys_as_ints(fp, config):
    want = [
        int(k[1:], 16) | _TITLE_KEY if k[0] == "t" else int(k, 16)
        for k in candidate_keys(fp, config)
    ]
    assert DedupState(config)._near_keys(fp) == want


def _packed_spec(fp: Fingerprint) -> bytes:
    # The layout streaming state and spill frames hold: size and three
    # counts, each sample's 16-bit values, the signature.
    parts = (fp.title[:16], fp.figures[:12], fp.text_figures[:12])
    head = struct.pack("<HBBB", min(fp.size, 0xFFFF), *(len(p) for p in parts))
    return head + b"".join(struct.pack(f"<{len(p)}H", *p) for p in parts) + fp.signature


@settings(max_examples=300, deadline=None)
@given(fp=fingerprints)
def test_fingerprint_packs_to_its_layout_and_back(fp):
    packed = fp.pack()
    assert packed == _packed_spec(fp)
    back = Fingerprint.unpack(packed)
    assert back.pack() == packed
    assert back == Fingerprint(
        fp.signature, fp.size, fp.title[:16], fp.figures[:12], fp.text_figures[:12]
    )
