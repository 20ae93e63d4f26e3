"""Every language pack against its cases (``cases_<language>.py``): inflected
press sentences that must be flagged, near misses that must not, and a probe
of something else that is recorded as ``other_investigation`` only."""

from __future__ import annotations

import importlib

import pytest
from packcheck import check_negative, check_other_investigation, check_positive, evaluate

LANGUAGES = ("ar", "az", "de", "en", "es", "fa", "fr", "hy", "ru", "tr", "uk")
CASES = {language: importlib.import_module(f"cases_{language}") for language in LANGUAGES}


def _params(attribute: str) -> list:
    return [
        pytest.param(
            language, *(case if isinstance(case, tuple) else (case,)), id=f"{language}-{i}"
        )
        for language, module in CASES.items()
        for i, case in enumerate(getattr(module, attribute))
    ]


@pytest.mark.parametrize("language,text,category,span", _params("POSITIVES"))
def test_positive(engine, language, text, category, span):
    check_positive(engine, language, text, category, span)


@pytest.mark.parametrize("language,text", _params("NEGATIVES"))
def test_negative(engine, language, text):
    check_negative(engine, language, text)


@pytest.mark.parametrize("language", LANGUAGES)
def test_probe_of_something_else_is_other_investigation(engine, language):
    check_other_investigation(engine, language, CASES[language].CORPORATE_PROBE)


def test_title_spans_point_into_the_title(engine):
    title = "Kremlin accused of war crimes in Mariupol"
    result = evaluate(engine, "en", "No further details were given.", title=title)
    terms = [t for f in result.flags for t in f.terms]
    assert any(t.field == "title" and t.text == "war crimes" for t in terms)
