"""Checks shared by the per-language pack tests (each test file holds only its cases)."""

from __future__ import annotations

from transforms.rules import Evaluation, RuleEngine


def evaluate(
    engine: RuleEngine, language: str | None, text: str, title: str = "", pack: str | None = None
) -> Evaluation:
    """Evaluate, check the pack used and that every span slices its field exactly."""
    fields = {"title": title, "text": text}
    result = engine.evaluate(fields, language=language)
    assert result.rules_language == (pack or language)
    for flag in result.candidates:
        for term in flag.terms:
            assert fields[term.field][term.start : term.end] == term.text
    return result


def check_positive(
    engine: RuleEngine, language: str, text: str, category: str, span: str, pack: str | None = None
) -> None:
    result = evaluate(engine, language, text, pack=pack)
    assert category in {f.category for f in result.flags}, [
        (f.category, f.score, f.rules) for f in result.candidates
    ]
    spans = [t.text for f in result.flags for t in f.terms]
    assert span in spans, spans


def check_negative(engine: RuleEngine, language: str, text: str, pack: str | None = None) -> None:
    result = evaluate(engine, language, text, pack=pack)
    assert result.flags == (), [(f.category, f.rules) for f in result.flags]


def check_other_investigation(engine: RuleEngine, language: str, text: str) -> None:
    """A probe of something else is recorded, not flagged."""
    result = evaluate(engine, language, text)
    assert result.flags == ()
    assert "other_investigation" in {c.category for c in result.candidates}
