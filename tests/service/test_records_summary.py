"""The structured summary of a conversation (service/records/summary.py) through real signed webhooks, SMS and
voice, English and Spanish, for every level; then the same value on the case page and in `flask cases show`.
The summary is a pure function: the last tests give it hand-made rows, with no database at all."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from service.engine.flow import Level
from service.engine.loader import load_flow
from service.engine.state import State
from service.models import AuditLog, Conversation, Escalation
from service.records import reading, store
from service.records.summary import Said, Summary, summarize
from service.services import Services
from service.settings import ROOT
from tests.conftest import NURSE_AVERY, PATIENT, Twilio, play
from tests.dashboard_client import create_user, login
from tests.service.test_voice import Call

FAINT = ("Have you fainted, or do you feel faint, cold and sweaty, or have severe pain in your belly as well as your "
         "back?")
BLADDER = "Since your back pain started, have you lost control of your bladder or bowels, or are you unable to pee?"


def summary_of(svc: Services, conversation_id: int | None = None) -> Summary:
    with svc.factory() as session:
        found = conversation_id or session.scalars(select(Conversation.id).order_by(Conversation.id.desc())).first()
        record = store.load(svc, session, found)
    assert record is not None
    return store.summary_of(svc, record)


def readings(summary: Summary) -> list[tuple[str | None, str, str]]:
    return [(e.asked, e.words, e.reading.kind) for e in summary.exchanges]


# Every level of the ladder, by the answers that lead there (flows/back_spasm.yaml).
LEVELS = [
    (["hi", "yes"], Level.call_911_now, "faint_shock_abdomen", "q_faint"),
    (["hi", "no", "yes"], Level.ed_now, "bladder_bowel", "q_bladder"),
    (["hi"] + ["no"] * 7 + ["yes"], Level.seen_today, "sudden_severe_over60", "q_sudden_over_60"),
    (["hi"] + ["no"] * 9 + ["yes"], Level.seen_within_24h, "rest_night_pain", "q_rest"),
    (["hi"] + ["no"] * 11 + ["yes"], Level.seen_within_3_days, None, "q_lasting"),
    (["hi"] + ["no"] * 12, Level.home_care, None, "q_lasting"),
]


@pytest.mark.parametrize(("texts", "level", "flag", "last"), LEVELS, ids=[lvl.value for _, lvl, _, _ in LEVELS])
def test_every_level_summarised_with_each_answer_and_the_flag_that_set_it(
        twilio: Twilio, svc: Services, texts: list[str], level: Level, flag: str | None, last: str) -> None:
    play(twilio, *texts)
    summary = summary_of(svc)
    assert (summary.level, summary.disposition, summary.status) == (level, level.disposition, "done")
    assert summary.flow_id == "back_spasm" and summary.flow_version == svc.flows.current().version
    assert summary.language == "en" and summary.channel == "sms"
    first, *answers = summary.exchanges
    assert (first.asked, first.reading.kind) == (None, reading.OPENING)
    assert [(e.words, e.reading.words) for e in answers] == [(t, t.capitalize()) for t in texts[1:]]
    assert answers[0].question == FAINT and answers[-1].asked == last
    with svc.factory() as session:
        state = State.from_json(session.scalars(select(Conversation.state)).one())
    assert [(a.node, a.value) for a in summary.answers] == list(state.answers.items())
    if flag is None:
        assert summary.red_flags == ()
        return
    [line] = summary.red_flags
    assert (line.flag, line.level) == (flag, level)
    [evidence] = line.found
    assert evidence.exchange == len(texts) and evidence.words == "yes" and evidence.how.startswith("answered Yes to:")
    assert "references.md" in line.source


def test_an_answer_not_understood_then_answered(twilio: Twilio, svc: Services) -> None:
    play(twilio, "my back hurts", "no", "blah blah", "no")
    summary = summary_of(svc)
    assert readings(summary)[1:] == [("q_faint", "no", reading.ANSWER), ("q_bladder", "blah blah", reading.UNCLEAR),
                                     ("q_bladder", "no", reading.ANSWER)]
    assert summary.exchanges[2].reading.words == "not understood: asked again"
    assert summary.exchanges[2].question == summary.exchanges[3].question == BLADDER
    assert summary.level is None and summary.status == "active"


def test_a_red_flag_in_free_text_with_the_words_that_found_it(twilio: Twilio, svc: Services) -> None:
    play(twilio, "hi", "no", "no", "not that, but my legs went numb this morning")
    summary = summary_of(svc)
    last = summary.exchanges[-1]
    assert (last.asked, last.reading.kind) == ("q_saddle", reading.RED_FLAG)  # asked about the saddle, not legs
    assert [(n.flag, n.quote) for n in last.reading.flags] == [("legs", "legs went numb")]
    [line] = summary.red_flags
    assert (line.flag, line.level, summary.level) == ("legs", Level.ed_now, Level.ed_now)
    assert [(e.exchange, e.how, e.words, e.said) for e in line.found] == [
        (4, "in their own words", "legs went numb", "not that, but my legs went numb this morning")]
    assert [a.node for a in summary.answers] == ["q_faint", "q_bladder"]  # the saddle question was never answered


def test_words_that_only_suggest_a_flag_then_yes(twilio: Twilio, svc: Services) -> None:
    play(twilio, "hi", "no", "no", "my bottom feels weird", "yes")
    summary = summary_of(svc)
    suggest, confirm = summary.exchanges[-2:]
    assert suggest.reading.kind == reading.SUGGESTS and "numbness in the groin" in suggest.reading.words
    assert confirm.reading.kind == reading.CONFIRMED and confirm.question.startswith("Do you mean you have numbness")
    [line] = summary.red_flags
    assert line.flag == "saddle_numbness"
    assert [(e.exchange, e.how.split(":")[0]) for e in line.found] == [(4, "in their own words"), (5, "said yes to")]


def test_a_hedged_no_then_a_nurse_asked_for(twilio: Twilio, svc: Services) -> None:
    play(twilio, "hi", "not really", "no", "NURSE")
    summary = summary_of(svc)
    assert readings(summary)[1:] == [("q_faint", "not really", reading.HEDGED), ("q_faint", "no", reading.ANSWER),
                                     ("q_bladder", "NURSE", reading.KEYWORD)]
    assert summary.exchanges[2].question.startswith("Just to be sure:")
    assert summary.level is Level.seen_today and summary.outcome == "out_nurse_requested"


def test_spanish_shows_the_english_question_beside_the_spanish_words(twilio: Twilio, svc: Services) -> None:
    play(twilio, "hola, me duele la espalda", "no", "quién sabe", "no", "sí")
    summary = summary_of(svc)
    assert summary.language == "es" and summary.level is Level.ed_now
    faint, unclear, bladder, saddle = summary.exchanges[1:]
    assert faint.question == FAINT and faint.question_asked.startswith("¿Se ha desmayado")
    assert (unclear.words, unclear.reading.kind, unclear.question) == ("quién sabe", reading.UNCLEAR, BLADDER)
    assert bladder.reading.words == "No" and saddle.words == "sí" and saddle.reading.words == "Yes"
    assert {e.language for e in summary.exchanges[1:]} == {"es"}
    assert summary.red_flags[0].found[0].how.startswith("answered Yes to: Do you have new numbness")


def test_voice_keys_and_speech_in_english(twilio: Twilio, svc: Services) -> None:
    call = Call(twilio)
    call.start()
    call.press("2")
    call.say("nope")
    call.press("7")
    call.press("9")
    call.press("2")
    call.say("yeah, both of them feel weak")
    summary = summary_of(svc)
    assert summary.channel == "voice" and summary.level is Level.ed_now
    assert [(e.asked, e.words, e.how, e.reading.words) for e in summary.exchanges] == [
        ("q_faint", "pressed 2", "keypad", "No"), ("q_bladder", "nope", "speech", "No"),
        ("q_saddle", "pressed 7", "keypad", "not understood: asked again"),
        ("q_saddle", "pressed 9", "keypad", "pressed 9: the question again"),
        ("q_saddle", "pressed 2", "keypad", "No"), ("q_legs", "yeah, both of them feel weak", "speech", "Yes")]
    assert summary.red_flags[0].flag == "legs"


def test_voice_in_spanish(twilio: Twilio, svc: Services) -> None:
    call = Call(twilio)
    call.ring()
    call.press("2")  # the language offer: Spanish
    call.say("no")
    call.say("tengo fiebre y escalofríos")
    summary = summary_of(svc)
    assert (summary.channel, summary.language, summary.level) == ("voice", "es", Level.ed_now)
    faint, bladder = summary.exchanges
    assert faint.question == FAINT and faint.question_asked.startswith("¿Se ha desmayado") and faint.how == "speech"
    assert bladder.question == BLADDER and bladder.reading.kind == reading.RED_FLAG
    assert [n.flag for n in bladder.reading.flags] == ["fever"]


# --- the case page and the command line --------------------------------------------------------------


@pytest.fixture
def nurse(app, svc) -> FlaskClient:  # type: ignore[no-untyped-def]
    assert create_user(app, "avery", "nurse", "Nurse Avery").exit_code == 0
    client = app.test_client()
    assert login(client, "avery").status_code == 302
    return client


def test_the_case_page_shows_the_summary_above_the_transcript(nurse: FlaskClient, twilio: Twilio,
                                                              svc: Services) -> None:
    play(twilio, "hola, me duele la espalda", "no", "quién sabe", "no", "ahora se me durmieron las piernas")
    with svc.factory() as session:
        case = session.scalars(select(Escalation)).one()
    page = nurse.get(f"/dashboard/cases/{case.id}").get_data(as_text=True)
    summary_at, transcript_at = page.index('id="case-summary"'), page.index("Whole history of this patient")
    assert summary_at < transcript_at and page.index('class="case-grid"') > summary_at
    block = page[summary_at:page.index("</section>", summary_at)]
    for words in (FAINT, "¿Se ha desmayado", "quién sabe", "not understood: asked again", "As asked (Spanish)",
                  "new leg weakness", "ahora se me durmieron las piernas", svc.flows.current().version, "ED NOW",
                  f"/dashboard/cases/{case.id}/fhir.json"):
        assert words in block, words
    with svc.factory() as session:
        assert session.scalars(select(AuditLog.action).where(AuditLog.username == "avery")).all() == [
            "login", "view_case"]


def test_cases_show_prints_the_summary_and_is_audited(app, twilio: Twilio, svc: Services) -> None:  # type: ignore[no-untyped-def]
    play(twilio, "hi", "no", "qwerty", "no", "my legs went numb")
    with svc.factory() as session:
        case = session.scalars(select(Escalation)).one()
    result = app.test_cli_runner().invoke(args=["cases", "show", str(case.id)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert f"Flow: back_spasm (Back muscle spasm), version {svc.flows.current().version}" in out
    assert "Disposition: ED NOW (ed_now, emergency)" in out and PATIENT not in out  # the number is masked
    assert '#5 in their own words — "legs went numb"' in out  # the words at the fifth text, not the third
    assert 'said (text): "qwerty" -> not understood: asked again' in out
    with svc.factory() as session:
        [row] = session.scalars(select(AuditLog).where(AuditLog.action == "cli_show_case")).all()
    assert (row.escalation_id, row.username.startswith("cli:")) == (case.id, True)
    assert app.test_cli_runner().invoke(args=["cases", "show", "999"]).exit_code != 0
    home = app.test_cli_runner().invoke(args=["cases", "show", "--conversation", "1"])
    assert home.exit_code == 0 and "Questions and answers:" in home.output


def test_a_nurse_number_is_never_the_patient_in_the_summary(twilio: Twilio, svc: Services) -> None:
    play(twilio, "hi", "no", "yes")
    play(twilio, "ACK", frm=NURSE_AVERY)
    summary = summary_of(svc)
    assert [e.words for e in summary.exchanges] == ["hi", "no", "yes"]  # the nurse's ACK is not an answer


# --- pure: no database ------------------------------------------------------------------------------------

AT = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def said(*rows: tuple[str, str, str | None, str]) -> list[Said]:
    return [Said(i, AT, direction, "sms", kind, key, body) for i, (direction, kind, key, body) in enumerate(rows, 1)]


def test_pure_summary_from_rows_alone() -> None:
    flow = load_flow(ROOT / "flows" / "back_spasm.yaml").flow
    rows = said(("in", "answer", None, "hi"), ("out", "reply", "welcome,privacy,q_faint", "..."),
                ("in", "answer", None, "dunno"), ("out", "reply", "unclear,q_faint", "..."),
                ("in", "answer", None, "yep"), ("out", "page", None, "URGENT"),
                ("out", "reply", "out_call_911", "Call 911 now."))
    state = State(status="done", answers={"q_faint": "yes"}, red_flags=("faint_shock_abdomen",),
                  outcome="out_call_911", level=Level.call_911_now)
    summary = summarize(flow, "v1", state, rows, channel="sms", status="done")
    assert readings(summary) == [(None, "hi", reading.OPENING), ("q_faint", "dunno", reading.UNCLEAR),
                                 ("q_faint", "yep", reading.ANSWER)]
    assert summary.outcome_text.startswith("Call 911 now.") and summary.flow_version == "v1"
    assert summary.red_flags[0].found[0].exchange == 3


def test_pure_a_flag_the_record_does_not_hold_is_not_claimed() -> None:
    """Words a newer finder would read as a red flag the conversation never recorded are not shown as one."""
    flow = load_flow(ROOT / "flows" / "back_spasm.yaml").flow
    rows = said(("out", "reply", "q_fever", "..."), ("in", "answer", None, "no fever but I passed out"),
                ("out", "reply", "unclear,q_fever", "..."))
    summary = summarize(flow, "v1", State(node="q_fever"), rows, channel="sms", status="active")
    assert summary.exchanges[0].reading.flags == () and summary.red_flags == ()
