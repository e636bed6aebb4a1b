"""The one form of a model name (service/modelname.py): what it accepts, what it refuses and how
the refusal names the character at fault."""

from __future__ import annotations

import re

import pytest

from service.errors import InvalidField
from service.modelname import MAX_LENGTH, PATTERN, RULE, check_model_name, name_problem

# Look-alikes of fraud-detector, and what the refusal must say of each.
LOOKALIKES = {
    "trailing space": ("fraud-detector ", "U+0020 SPACE at position 14 (after 'fraud-detector')"),
    "leading space": (" fraud-detector", "U+0020 SPACE at position 0"),
    "tab": ("fraud-detector\t", "U+0009 at position 14"),
    "newline": ("fraud-detector\n", "U+000A at position 14"),
    "no-break space": ("fraud\u00a0detector", "U+00A0 NO-BREAK SPACE at position 5"),
    "U+2010 hyphen": ("fraud\u2010detector", "U+2010 HYPHEN at position 5 (after 'fraud')"),
    "U+2011 hyphen": ("fraud\u2011detector", "U+2011 NON-BREAKING HYPHEN at position 5"),
    "minus sign": ("fraud\u2212detector", "U+2212 MINUS SIGN at position 5"),
    "cyrillic a": ("fr\u0430ud-detector", "U+0430 CYRILLIC SMALL LETTER A at position 2"),
    "fullwidth d": ("fraud-\uff44etector", "U+FF44 FULLWIDTH LATIN SMALL LETTER D at position 6"),
    "zero-width space": ("fraud-\u200bdetector", "U+200B ZERO WIDTH SPACE at position 6"),
    "zero-width joiner": ("fraud-detector\u200d", "U+200D ZERO WIDTH JOINER at position 14"),
    "byte order mark": ("\ufefffraud-detector", "U+FEFF ZERO WIDTH NO-BREAK SPACE at position 0"),
    "combining accent": ("fraud-detecto\u0301r", "U+0301 COMBINING ACUTE ACCENT at position 13"),
    "upper-case initial": ("Fraud-detector", "U+0046 LATIN CAPITAL LETTER F at position 0"),
    "all upper case": ("FRAUD-DETECTOR", "U+0046 LATIN CAPITAL LETTER F at position 0"),
    "NUL": ("fraud\x00detector", "U+0000 at position 5"),
}


@pytest.mark.parametrize(
    "name",
    ["fraud-detector", "churn_v2", "ranker.eu", "m", "7", "a1", "x" * MAX_LENGTH, "a-b_c.d"],
)
def test_a_name_in_the_one_form_is_accepted(name: str) -> None:
    assert name_problem(name) is None
    assert check_model_name("model.name", name) == name
    assert re.fullmatch(PATTERN.removeprefix("^").removesuffix("$"), name)


@pytest.mark.parametrize(("name", "said"), LOOKALIKES.values(), ids=LOOKALIKES.keys())
def test_a_lookalike_is_refused_naming_the_character_and_the_form(name: str, said: str) -> None:
    with pytest.raises(InvalidField) as refused:
        check_model_name("model.name", name)

    assert refused.value.field == "model.name"
    assert said in refused.value.message
    assert refused.value.message.endswith(RULE)
    assert not re.fullmatch(PATTERN.removeprefix("^").removesuffix("$"), name)


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("", "the name is empty"),
        ("x" * (MAX_LENGTH + 1), f"is {MAX_LENGTH + 1} characters long; at most {MAX_LENGTH}"),
        ("-fraud", "U+002D HYPHEN-MINUS at position 0 cannot start a name"),
        ("fraud.", "U+002E FULL STOP at position 5 cannot end a name"),
        ("_", "U+005F LOW LINE at position 0 cannot start a name"),
        ("team/fraud", "U+002F SOLIDUS at position 4 (after 'team') is not allowed"),
        ("fraud@7", "U+0040 COMMERCIAL AT at position 5"),
        ("m\udc00", "U+DC00 at position 1 (after 'm') is an unpaired UTF-16 surrogate"),
        (7, "must be a string; found int 7"),
        (None, "must be a string; found NoneType None"),
    ],
)
def test_the_edges_of_the_form_are_refused(name: object, said: str) -> None:
    problem = name_problem(name)

    assert problem is not None and said in problem, problem


def test_the_problem_says_why_the_character_is_refused() -> None:
    assert "is not ASCII (it may look like an allowed character)" in str(
        name_problem("fraud\u2010detector")
    )
    assert "is an upper-case letter (names are lower case)" in str(name_problem("Fraud"))
    assert "is an invisible format character" in str(name_problem("a\u200bb"))
    assert "is white space" in str(name_problem("a b"))
    assert "is a control character" in str(name_problem("a\x07b"))
