"""The phone menu alone (service/engine/phone.py): whole calls decided without a database, Flask or Twilio.

`Phone` keeps between turns only what the runtime (service/runtime/calls.py) would save: the engine's state, the
patient's language, the step number, and whether written advice is staged. Expected phrases come from the
flow itself (its `voice_*` messages and node texts), so the tests say what the caller hears, not how.
"""

from __future__ import annotations

from service.engine.flow import Outcome
from service.engine.loader import load_flow
from service.engine.phone import after_dial, after_voicemail, answer, connect, hung_up, opening
from service.engine.phone_turns import (
    CLOSING,
    DIAL,
    GATHER,
    HANGUP,
    LANGUAGE,
    OFFER,
    QUESTION,
    RECORD,
    Call,
    Caller,
    Decision,
    Heard,
    VoiceTurn,
    phone_phrase,
)
from service.engine.render import Env, localize, node_text, prompt
from service.engine.state import Escalate, ScheduleCheckin, SetLanguage, State
from service.engine.step import step
from service.settings import ROOT

FLOW = load_flow(ROOT / "flows" / "back_spasm.yaml").flow
CONTEXT = {"clinic_name": "Test Clinic", "clinic_phone": "555-0100"}
NURSE = "+15550100199"
FIRST = step(FLOW, State(), "", CONTEXT, channel="voice").state.node or ""  # the first question, past the welcome


def phrase(name: str, language: str = "en") -> str:
    return phone_phrase(FLOW, name, language, CONTEXT)


def asked(node: str, language: str = "en") -> str:
    return prompt(FLOW, node, language, Env(CONTEXT, "voice"))


def escalations(decision: Decision) -> list[Escalate]:
    return [a for a in decision.result.actions if isinstance(a, Escalate)] if decision.result else []


class Phone:
    """One call through the pure menu, carrying from turn to turn what the runtime would have saved."""

    def __init__(self, *, language: str = "en", textable: bool = True, hidden: bool = False) -> None:
        self.state = State(language=language)
        self.language, self.textable, self.hidden = language, textable, hidden
        self.turn = VoiceTurn(())
        self.answers = 0  # answers given on this call outside the language offer
        self.staged = False

    def call(self, first_answer: bool = False) -> Call:
        caller = Caller(language=self.language, step=self.turn.step + 1, textable=self.textable, hidden=self.hidden,
                        first_answer=first_answer, advice_offered=self.staged)
        return Call(FLOW, self.state, caller, CONTEXT)

    def keep(self, decision: Decision) -> Decision:
        if decision.result is not None:
            self.state = decision.result.state
            for action in decision.result.actions:
                if isinstance(action, SetLanguage):
                    self.language = action.language
        self.staged = decision.advice is not None or (self.staged and decision.send_advice is None)
        self.turn = decision.turn
        return decision

    def ring(self) -> Decision:
        return self.keep(opening(self.call()))

    def hear(self, heard: Heard) -> Decision:
        assert self.turn.then == GATHER, self.turn
        if self.turn.at != LANGUAGE:
            self.answers += 1
        first = self.turn.at == QUESTION and self.answers == 1
        return self.keep(answer(self.call(first), self.turn.at, self.turn.tries, heard))

    def press(self, digits: str) -> Decision:
        return self.hear(Heard(digits=digits))

    def say(self, words: str, confidence: float = 0.9) -> Decision:
        return self.hear(Heard(speech=words, confidence=confidence))

    def silence(self) -> Decision:
        return self.hear(Heard())


def at_first_question(**caller: bool) -> Phone:
    phone = Phone(**caller)  # type: ignore[arg-type]
    phone.ring()
    phone.silence()  # no answer at the language offer keeps the caller's language
    assert phone.state.node == FIRST
    return phone


def at_home_care(**caller: bool) -> tuple[Phone, Decision]:
    """No to every question: the home-care outcome, and whatever the line says after it."""
    phone = at_first_question(**caller)
    decision = phone.press("2")
    while decision.turn.at == QUESTION and decision.turn.then == GATHER:
        decision = phone.press("2")
    assert phone.state.outcome == "out_home_care"
    return phone, decision


# --- the language offer ----------------------------------------------------------------------------


def test_a_call_opens_with_the_greeting_then_spanish_offered_in_a_spanish_voice() -> None:
    decision = Phone().ring()
    assert decision.turn.say == (phrase("greeting"), phrase("language_offer", "es"))
    assert (decision.turn.then, decision.turn.at, decision.turn.voices) == (GATHER, LANGUAGE, ("en", "es"))
    assert decision.turn.language == "es"  # the Gather listens for the language offered
    assert decision.result is None  # nothing for the engine yet


def test_a_caller_known_to_speak_spanish_is_greeted_in_spanish_and_offered_english() -> None:
    decision = Phone(language="es").ring()
    assert decision.turn.say == (phrase("greeting", "es"), phrase("language_offer", "en"))
    assert decision.turn.voices == ("es", "en")


def test_2_at_the_language_offer_carries_on_in_spanish() -> None:
    phone = Phone()
    phone.ring()
    decision = phone.press("2")
    assert decision.result is not None and SetLanguage("es") in decision.result.actions
    assert (decision.turn.at, decision.turn.language) == (QUESTION, "es")
    assert decision.turn.say[-2:] == (localize(FLOW.messages.voice_controls, "es", CONTEXT), asked(FIRST, "es"))
    assert decision.turn.hints == ("Sí", "No")


def test_espanol_said_at_the_language_offer_carries_on_in_spanish() -> None:
    phone = Phone()
    phone.ring()
    decision = phone.say("español")
    assert phone.language == "es" and decision.turn.language == "es"
    assert decision.turn.say[-1] == asked(FIRST, "es")


def test_1_at_the_language_offer_switches_a_spanish_speaker_to_english() -> None:
    phone = Phone(language="es")
    phone.ring()
    decision = phone.press("1")
    assert phone.language == "en" and decision.turn.language == "en"
    assert decision.turn.say[-2:] == (localize(FLOW.messages.voice_controls, "en", CONTEXT), asked(FIRST))


def test_no_answer_at_the_language_offer_keeps_the_callers_language() -> None:
    phone = Phone()
    phone.ring()
    decision = phone.silence()
    assert decision.result is not None
    assert not any(isinstance(a, SetLanguage) for a in decision.result.actions)
    assert decision.turn.language == "en" and decision.turn.say[-1] == asked(FIRST)


def test_a_red_flag_said_at_the_language_offer_escalates_at_once() -> None:
    phone = Phone()
    phone.ring()
    decision = phone.say("I can't control my bladder")
    [escalation] = escalations(decision)
    assert "bladder_bowel" in escalation.red_flags
    assert decision.transfer and phrase("greeting") not in decision.turn.say


# --- questions --------------------------------------------------------------------------------------


def test_a_question_answered_by_key_moves_on_to_the_next() -> None:
    phone = at_first_question()
    decision = phone.press("2")
    assert phone.state.answers[FIRST] == "no"
    assert decision.turn.say == (asked(phone.state.node),)  # type: ignore[arg-type]
    assert (decision.turn.then, decision.turn.at, decision.turn.hints) == (GATHER, QUESTION, ("Yes", "No"))


def test_a_question_answered_by_speech_moves_on_to_the_next() -> None:
    phone = at_first_question()
    decision = phone.say("no, not at all")
    assert phone.state.answers[FIRST] == "no"
    assert phone.state.node != FIRST and decision.turn.say == (asked(phone.state.node),)  # type: ignore[arg-type]


def test_speech_heard_unsurely_is_asked_again_not_taken_as_an_answer() -> None:
    phone = at_first_question()
    decision = phone.say("yes", confidence=0.3)
    assert phone.state.node == FIRST and FIRST not in phone.state.answers
    assert decision.turn.say[-1] == asked(FIRST) and decision.turn.at == QUESTION
    assert not escalations(decision)


def test_a_red_flag_in_unsure_speech_still_escalates_and_puts_the_caller_through() -> None:
    phone = at_first_question()
    decision = phone.say("I can't control my bladder", confidence=0.2)
    [escalation] = escalations(decision)
    assert "bladder_bowel" in escalation.red_flags
    assert decision.turn.say[0] == node_text(FLOW, escalation.outcome, "voice", "en", CONTEXT)
    assert decision.transfer and decision.turn.then == DIAL

    put_through = connect(phone.call(), decision, 7, NURSE)
    assert put_through.turn.say[-1] == phrase("connecting") and not put_through.transfer
    assert (put_through.turn.then, put_through.turn.case_id, put_through.turn.nurse_phone) == (DIAL, 7, NURSE)

    nobody = connect(phone.call(), decision, None, None)
    assert nobody.turn.say[-2:] == (phrase("no_nurse"), phrase("goodbye")) and nobody.turn.then == HANGUP


def test_9_repeats_the_question_and_changes_nothing() -> None:
    phone = at_first_question()
    for decision in (phone.press("9"), phone.say("can you repeat that")):
        assert decision.result is None and phone.state.node == FIRST and phone.state.misses == 0
        assert decision.turn.say == (asked(FIRST),) and decision.turn.at == QUESTION


def test_0_asks_for_a_nurse_and_puts_the_caller_through() -> None:
    for ask in ("press", "say"):
        phone = at_first_question()
        decision = phone.press("0") if ask == "press" else phone.say("nurse please")
        [escalation] = escalations(decision)
        assert escalation.outcome == FLOW.nurse_outcome
        assert decision.transfer and decision.turn.then == DIAL


def test_a_callers_first_words_are_asked_again_without_counting_as_a_miss() -> None:
    phone = at_first_question()
    decision = phone.say("hi, my back went into spasm this morning")
    assert phone.state.node == FIRST and phone.state.misses == 0
    assert decision.turn.say[-1] == asked(FIRST)


def test_too_many_misses_offer_the_nurse_then_hand_the_screen_to_a_nurse() -> None:
    phone = at_first_question()
    phone.press("2")
    question = phone.state.node
    assert question is not None
    said = [phone.say("purple monkey dishwasher").turn.say for _ in range(FLOW.reask_limit)]
    assert phrase("press_nurse") not in said[0]
    assert said[-1][-2:] == (phrase("press_nurse"), asked(question))  # at the limit: 0 for a nurse, then again
    decision = phone.say("purple monkey dishwasher")
    [escalation] = escalations(decision)
    assert escalation.outcome == FLOW.unclear_outcome and decision.transfer


# --- after the outcome: the text offer and the closing prompt ---------------------------------------------


def test_home_care_offers_the_advice_by_text_and_stages_it_without_starting_check_ins() -> None:
    _, decision = at_home_care()
    assert (decision.turn.at, decision.turn.say[-1], decision.turn.tries) == (OFFER, phrase("text_offer"), 0)
    assert decision.advice is not None
    assert decision.advice.startswith(phrase("advice_header")) and decision.advice.endswith(phrase("advice_footer"))
    assert node_text(FLOW, "out_home_care", "sms", "en", CONTEXT) in decision.advice
    assert localize(FLOW.messages.privacy, "en", CONTEXT) in decision.advice  # the first text carries the notice
    assert decision.result is not None
    assert not any(isinstance(a, ScheduleCheckin) for a in decision.result.actions)  # no texts without consent


def test_the_text_offer_accepted_sends_the_advice_and_starts_the_check_ins() -> None:
    for accept in (Heard(digits="1"), Heard(speech="yes please", confidence=0.9)):
        phone, _ = at_home_care()
        decision = phone.hear(accept)
        outcome = FLOW.nodes["out_home_care"]
        assert isinstance(outcome, Outcome)
        assert decision.send_advice is True
        assert decision.checkins == tuple(ScheduleCheckin(p.ask, p.after) for p in outcome.checkins)
        assert decision.turn.say == (phrase("text_accepted"), phrase("goodbye")) and decision.turn.then == HANGUP


def test_the_text_offer_declined_drops_the_advice() -> None:
    phone, _ = at_home_care()
    decision = phone.press("2")
    assert decision.send_advice is False and decision.checkins == ()
    assert decision.turn.say == (phrase("text_declined"), phrase("goodbye")) and decision.turn.then == HANGUP


def test_the_text_offer_unanswered_twice_is_a_no() -> None:
    phone, _ = at_home_care()
    again = phone.silence()
    assert again.send_advice is None  # still offered
    assert again.turn.say == (localize(FLOW.messages.unclear, "en"), phrase("text_offer"))
    assert (again.turn.at, again.turn.tries) == (OFFER, 1)
    decision = phone.silence()
    assert decision.send_advice is False and decision.turn.say[0] == phrase("text_declined")
    assert decision.turn.then == HANGUP


def test_a_yes_to_a_number_that_can_no_longer_take_texts_sends_nothing() -> None:
    phone, _ = at_home_care()
    phone.textable = False  # opted out by text since the offer
    decision = phone.press("1")
    assert decision.send_advice is False and decision.turn.say[0] == phrase("text_declined")


def test_a_nurse_asked_for_at_the_text_offer_drops_the_advice_and_puts_the_caller_through() -> None:
    phone, _ = at_home_care()
    decision = phone.press("0")
    assert decision.send_advice is False
    [escalation] = escalations(decision)
    assert escalation.outcome == FLOW.nurse_outcome and decision.transfer


def test_a_number_that_cannot_take_texts_gets_no_offer_but_the_closing_prompt() -> None:
    _, decision = at_home_care(textable=False)
    assert decision.advice is None and decision.turn.at == CLOSING
    assert decision.turn.say[-1] == phrase("closing") and phrase("text_offer") not in decision.turn.say
    _, hidden = at_home_care(textable=False, hidden=True)
    assert hidden.turn.say[-2:] == (phrase("text_hidden"), phrase("closing"))


def test_the_closing_prompt_is_said_twice_to_silence_then_goodbye() -> None:
    phone, _ = at_home_care(textable=False)
    again = phone.silence()
    assert (again.turn.say, again.turn.at, again.turn.tries) == ((phrase("closing"),), CLOSING, 1)
    assert phone.press("9").turn.tries == 1  # a repeat is not a miss
    decision = phone.silence()
    assert decision.turn.say == (phrase("goodbye"),) and decision.turn.then == HANGUP


def test_anything_else_said_at_the_closing_prompt_is_goodbye() -> None:
    phone, _ = at_home_care(textable=False)
    decision = phone.say("ok thanks bye")
    assert decision.turn.say == (phrase("goodbye"),) and decision.result is None


def test_0_or_a_red_flag_at_the_closing_prompt_still_reach_the_nurse() -> None:
    phone, _ = at_home_care(textable=False)
    [escalation] = escalations(phone.press("0"))
    assert escalation.outcome == FLOW.nurse_outcome and phone.turn.then == DIAL
    phone, _ = at_home_care(textable=False)
    decision = phone.say("my legs went numb")
    [escalation] = escalations(decision)
    assert "legs" in escalation.red_flags and decision.transfer


# --- the nurse's side ---------------------------------------------------------------------------------


def test_after_the_nurse_goodbye_or_the_emergency_advice_again_and_a_voicemail() -> None:
    phone = at_first_question()
    decision = phone.say("my legs went numb")
    [escalation] = escalations(decision)
    talked = after_dial(phone.call(), talked=True, case_id=7)
    assert talked.turn.say == (phrase("after_nurse"), phrase("goodbye")) and talked.turn.then == HANGUP
    missed = after_dial(phone.call(), talked=False, case_id=7)
    assert missed.turn.say == (phrase("nurse_unanswered"), node_text(FLOW, escalation.outcome, "voice", "en", CONTEXT),
                               phrase("voicemail_prompt"))
    assert (missed.turn.then, missed.turn.case_id) == (RECORD, 7)
    assert missed.turn.finally_say == (phrase("no_voicemail"), phrase("goodbye"))
    assert after_voicemail(phone.call(), left=True).turn.say == (phrase("voicemail_thanks"), phrase("goodbye"))


def test_hanging_up_inside_the_screen_after_an_answer_is_a_nurse_callback() -> None:
    phone = at_first_question()
    assert hung_up(phone.call(), "completed") is None  # nothing answered yet: nothing to follow up
    phone.press("2")
    result = hung_up(phone.call(), "completed")
    assert result is not None
    [escalation] = [a for a in result.actions if isinstance(a, Escalate)]
    assert escalation.outcome == FLOW.unclear_outcome and "hung up" in escalation.reason
    assert not any(isinstance(a, ScheduleCheckin) for a in result.actions)
