"""`flask --app service simulate`: the terminal chat runs the same engine, parser and pages."""

from __future__ import annotations

import re

from flask import Flask

from tests.conftest import ALL_CLEAR, services


def simulate(app: Flask, *lines: str) -> str:
    result = app.test_cli_runner().invoke(args=["simulate"], input="".join(f"{line}\n" for line in lines))
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def replies(output: str) -> list[str]:
    # input() prints its prompt without a newline, so a turn's first reply follows "you> ".
    return re.findall(r"^(?:you> )?line> (.*)$", output, flags=re.MULTILINE)


def test_simulator_red_flag_in_own_words_pages_and_prints_the_disposition(app: Flask) -> None:
    output = simulate(app, "hi", "no", "I can't feel my legs")
    said = replies(output)
    assert "a few quick questions" in said[0] and "911" in said[0]
    assert any("fainted" in line for line in said)
    assert any("emergency department now" in line for line in said)
    # The simulator runs on the real clock, so whoever the roster has on call right now is paged.
    [paged] = re.findall(r"^(?:you> )?--- SMS CONSOLE\d+ to (\+\d+)$", output, flags=re.MULTILINE)
    assert services(app).roster.nurse_by_phone(paged) is not None, paged
    assert "URGENT case" in output and "cant feel my legs" in output
    assert "[disposition: emergency / level: ed_now / outcome: out_ed_now]" in output
    assert output.count("[disposition:") == 1


def test_simulator_benign_case_ends_in_home_care_without_a_page(app: Flask) -> None:
    output = simulate(app, "my back went into spasm", *ALL_CLEAR)
    said = replies(output)
    assert any("20 minutes" in line for line in said) and any("pillow under your knees" in line for line in said)
    assert "[disposition: self_care / level: home_care / outcome: out_home_care]" in output
    assert not re.search(r"^(?:you> )?--- SMS CONSOLE", output, flags=re.MULTILINE), "no page for a benign case"


def test_simulator_reasks_an_unclear_answer(app: Flask) -> None:
    output = simulate(app, "hi", "purple", "maybe")
    said = replies(output)
    assert sum("didn't understand" in line for line in said) == 2
    assert "[disposition:" not in output
