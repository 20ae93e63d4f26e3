"""repairs_for's memchr pre-checks give what the three pattern scans alone give."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from connectors import textrepair
from connectors.textrepair import repairs_for


def _repairs_reference(body: bytes) -> tuple[bool, bool]:
    high = textrepair._HIGH_REFERENCE.search(body) is not None
    latin1 = high or textrepair._LEAD_BEFORE.search(body) is not None
    c1 = textrepair._C1_UTF8.search(body) is not None or (
        high and textrepair._C1_REFERENCE.search(body) is not None
    )
    return latin1, c1


_PIECES = [b"&#", b"#", b"&", b"x", b"0", b"1", b"2", b"9", b"128", b"233", b"255", b";",
           b"xA0", b"x9", b"\xc3", b"\xa9", b"\xc2", b"\x85", b"\xa0", b"<!", b"<?", b"]]>",
           b"a", b" ", b"\xd0\xb6"]


@settings(max_examples=500, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from(_PIECES), max_size=30).map(b"".join))
def test_pre_checks_agree_with_the_scans(body):
    assert repairs_for(body) == _repairs_reference(body)


def test_each_repair_is_still_found():
    assert repairs_for(b"<t>&#233;</t>") == (True, False)
    assert repairs_for(b"<t>&#150;</t>") == (True, True)
    assert repairs_for(b"<t>\xc3\xa9\xc2\xa0</t>") == (True, False)
    assert repairs_for(b"<t>\xc2\x92</t>") == (False, True)
    assert repairs_for(b"<t>plain # text</t>") == (False, False)
