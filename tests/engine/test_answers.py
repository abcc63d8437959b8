"""The one answer parser on the ways people really answer, and on what it must refuse to guess.

Safety rule under test: an answer the parser is not sure of gives None (the question is asked
again), and a sentence that reports a red flag is never read as "no".
"""

from __future__ import annotations

import pytest

from service.engine.answers import parse_answer, yes_or_no
from service.engine.flow import Question
from service.engine.loader import load_flow
from service.settings import ROOT

FLOW = load_flow(ROOT / "flows" / "back_spasm.yaml").flow
YES_NO = FLOW.nodes["q_faint"]  # a real screening question: Yes -> 911
HOW_ARE_YOU = FLOW.nodes["ci_how_are_you"]  # 1 Better, 2 Same, 3 Worse (with aliases)
assert isinstance(YES_NO, Question) and isinstance(HOW_ARE_YOU, Question)

# A three-way question with bare labels and no aliases: only numbers, letters and labels can answer it.
PLAIN = Question.model_validate({
    "type": "question", "text": "Which is it?",
    "choices": [{"id": "morning", "label": "Morning", "next": "x"},
                {"id": "afternoon", "label": "Afternoon", "next": "x"},
                {"id": "evening", "label": "Evening", "next": "x"}],
})


@pytest.mark.parametrize("text", [
    "y", "Y", "Yes", "Yes!", "YES", "yes.", "yes!!!!", "yeah", "Yeah", "yea", "yep", "yup", "ya", "sure", "Sure.",
    "\U0001f44d", "yesss", "Yesssss", "yeahhh", "yepp", "si", "sí", "Sí", "claro", "correct", "affirmative",
    "uh huh", "  yes please  ", "yes :)", "yes \U0001f62b", "ok yes", "Okay, yes", "um yes", "yes I do", "Yes I have",
    "yes, I did", "I do", "I have", "definitely", "absolutely", "of course", "that's right", "yes ma'am", "YeS",
    "Yes, my legs are numb", "yes but only a little", "I'm afraid so. Slowly but steadily", "afraid so", "sadly yes",
    "me temo que sí", "lamentablemente sí",
])
def test_yes_phrasings(text: str) -> None:
    assert yes_or_no(text) == "yes"
    assert parse_answer(YES_NO, text) == "yes"


@pytest.mark.parametrize("text", [
    "n", "N", "no", "No.", "NO!!!", "nooo", "Noooooo", "nope", "Nope!", "nah", "naw", "no I don't", "No, I have not",
    "no I haven't", "no thanks", "nope not at all", "not really", "Not at all", "not that I know of", "none",
    "nothing like that", "none of those", "no ma'am", "negative", "never", "nada", "\U0001f44e", "no \U0001f44e",
    "ok no", "um no", "I don't think so", "don't think so", "definitely not", "absolutely not", "of course not",
    "I don't", "I haven't", "I didn't", "no fever", "No, I don't have a fever", "I have not fainted",
    "no I've never had cancer", "No, I can pee fine", "no I can walk fine", "No, it's not getting worse",
    "nah I'm good", "NO.", "nO", "I'm afraid not", "me temo que no",
])
def test_no_phrasings(text: str) -> None:
    assert yes_or_no(text) == "no"
    assert parse_answer(YES_NO, text) == "no"


@pytest.mark.parametrize("text", [
    # uncertainty is not an answer
    "maybe", "Maybe?", "not sure", "I'm not sure", "I don't know", "dunno", "idk", "IDK", "no idea",
    "I have no idea", "not sure, maybe", "kind of", "sort of", "perhaps", "no sé", "I think so", "I guess",
    "no se",
    # both at once
    "yes and no", "Yes no", "no, yes", "yes or no?", "si no",
    # nonsense, empty, emoji that are not thumbs
    "banana", "", "   ", "?", "...", "\U0001f62b", "ok", "okay", "k", "lol", "hello", "purple",
    # a bare letter or a keypad key with no option behind it
    "a", "b", "9", "0", "3", "#9", "option 5", "ten",
])
def test_unclear_answers_are_not_guessed(text: str) -> None:
    assert parse_answer(YES_NO, text) is None


@pytest.mark.parametrize("text", [
    # a "no" that goes on to report a red flag, or an inability, is not a no
    "no but my legs are numb",
    "No, but I can't feel my legs",
    "no I can't",
    "No, I can't pee",
    "no I cant walk",
    "not able to walk",
    "I'm not able to stand up",
    "I haven't been able to pee since yesterday",
    "I have not peed today",
    "I have no feeling in my legs",
    "I have no control of my bladder",
    "I don't have control of my bladder",
    "I didn't make it to the bathroom in time",
    "No, I lost control of my bladder",
    "no my legs are numb",
    "No, I wet myself",
    "nothing, I can't feel anything down there",
    "No except my legs are weak",
    "no, sometimes",
    "no, a little",
    "There's no way I can walk",
    "not really, I can barely walk",
])
def test_red_flag_sentences_are_never_read_as_no(text: str) -> None:
    assert yes_or_no(text) != "no"
    assert parse_answer(YES_NO, text) != "no"


@pytest.mark.parametrize("text, expected", [
    ("1", "yes"), ("2", "no"), (" 2 ", "no"), ("#1", "yes"), ("#2", "no"), ("option 2", "no"), ("Option 1", "yes"),
    ("one", "yes"), ("two", "no"), ("uno", "yes"), ("dos", "no"), ("1.", "yes"), ("2!", "no"), ("1 yes", "yes"),
    ("2 no", "no"), ("1 no", None), ("2 yes", None),
])
def test_numbers_answer_yes_no_questions(text: str, expected: str | None) -> None:
    assert parse_answer(YES_NO, text) == expected


@pytest.mark.parametrize("text, expected", [
    ("1", "better"), ("2", "same"), ("3", "worse"), (" 3 ", "worse"), ("#2", "same"), ("option 3", "worse"),
    ("one", "better"), ("two", "same"), ("three", "worse"), ("uno", "better"), ("dos", "same"), ("tres", "worse"),
    ("a", "better"), ("b", "same"), ("C", "worse"), ("c)", "worse"), ("3.", "worse"),
    ("better", "better"), ("Better!", "better"), ("BETTER", "better"), ("I'm feeling better", "better"),
    ("much better thanks", "better"), ("a little better", "better"), ("better \U0001f60a", "better"),
    ("good", "better"), ("fine", "better"), ("ok", "better"),
    ("same", "same"), ("about the same", "same"), ("the same", "same"), ("Same as before", "same"),
    ("no change", "same"), ("meh", "same"), ("so-so", "same"), ("so so", "same"), ("well", "better"),
    ("ok better", "better"), ("um worse", "worse"),
    ("worse", "worse"), ("Worse.", "worse"), ("I feel worse", "worse"), ("getting worse", "worse"),
    ("not good", "worse"), ("terrible", "worse"), ("a little worse", "worse"),
    ("3 worse", "worse"), ("1 better", "better"), ("2 same", "same"),
    ("better, not worse", "better"),
])
def test_choice_questions(text: str, expected: str) -> None:
    assert parse_answer(HOW_ARE_YOU, text) == expected


@pytest.mark.parametrize("text", [
    "not better", "Not any better", "I'm not feeling better", "I don't feel better", "I don't feel any better",
    "no better", "isn't better", "not worse", "better or worse?", "same or worse", "better? no",
    "maybe better", "not sure", "yes", "no", "4", "9", "0", "d", "option 4", "four", "1 worse", "3 better",
    "", "banana", "\U0001f937",
])
def test_choice_questions_do_not_guess(text: str) -> None:
    assert parse_answer(HOW_ARE_YOU, text) is None


@pytest.mark.parametrize("text, expected", [
    ("a", "morning"), ("B", "afternoon"), ("c", "evening"), ("d", None), ("2", "afternoon"), ("4", None),
    ("evening", "evening"), ("in the morning", "morning"), ("Afternoon!", "afternoon"), ("morning or evening", None),
    ("not the morning", None), ("yes", None), ("no", None),
])
def test_letters_and_labels_on_a_question_without_aliases(text: str, expected: str | None) -> None:
    assert parse_answer(PLAIN, text) == expected


def test_letters_do_not_answer_yes_no_questions() -> None:
    assert parse_answer(YES_NO, "a") is None and parse_answer(YES_NO, "b") is None


def test_yes_no_question_answered_in_a_sentence_is_not_read_by_mention() -> None:
    # "no" appearing somewhere in a sentence is not an answer: only the way the answer opens counts.
    for text in ("my back has no problems except I can't walk", "there is no way I can pee",
                 "I have a fever no", "I can't pee no"):
        assert parse_answer(YES_NO, text) != "no", text


@pytest.mark.parametrize("text", [
    "No, the pain is about the same", "no it's the same as yesterday", "Nope, it only hurts when I bend over",
    "no, I can feel my legs fine", "no fever or chills", "no numbness", "No I didn't fall",
])
def test_a_no_with_harmless_detail_is_still_no(text: str) -> None:
    assert yes_or_no(text) == "no"


@pytest.mark.parametrize("text", ["yes I have no feeling in my legs", "ya no", "Yes, no", "nope yes"])
def test_conflicting_words_are_not_guessed(text: str) -> None:
    assert yes_or_no(text) is None
