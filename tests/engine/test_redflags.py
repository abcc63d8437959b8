"""The free-text red-flag detector on flows/back_spasm.yaml: every flag in everyday words, and the
negated twins, mimics and benign sentences that must not fire.

Decisions recorded here (for the clinical reviewer):
- "my leg fell asleep" is the everyday pins-and-needles of sitting on a leg, not a red flag; "I fell
  asleep on the couch" is not a fall.
- "I can't stand this pain" and "I can't stand up straight" are about pain and posture, not leg
  weakness; "I can't stand" and "I can't walk" are leg flags (the screen asks about trouble standing
  or walking).
- Family history ("my mom had cancer") still fires risk_history: an over-triage to a 24 h callback
  that a regex cannot safely tell apart from "I had cancer". Slang "passed out on the couch" (asleep)
  also fires; sending that to a nurse is the safe mistake.
"""

from __future__ import annotations

import re

import pytest

from service.engine.flow import Level
from service.engine.loader import load_flow
from service.engine.redflags import detect, worst
from service.engine.scores import rises, rises_across
from service.settings import ROOT

FLOW = load_flow(ROOT / "flows" / "back_spasm.yaml").flow


def flags(text: str) -> set[str]:
    return {finding.flag for finding in detect(FLOW, text)}


POSITIVE: dict[str, list[str]] = {
    "faint_shock_abdomen": [
        "passed out", "I passed out this morning", "I fainted", "I blacked out for a second", "I almost fainted",
        "I feel faint", "I feel like I'm going to pass out", "I'm cold and clammy", "I'm dizzy and sweaty",
        "worst belly pain", "worst belly pain of my life", "severe stomach pain", "my stomach is killing me",
        "my belly hurts so bad", "terrible pain in my stomach too", "I lost consciousness",
    ],
    "bladder_bowel": [
        "cant control my bladder", "I can't control my bladder", "I wet myself", "I peed my pants",
        "i keep wetting myself", "I pooped myself", "I lost control of my bowels", "I have no control over my pee",
        "I can't hold my pee", "I can't pee", "I cant pee", "I havent peed all day",
        "I haven't been able to pee since yesterday", "I have trouble peeing", "I'm having difficulty urinating",
        "I'm leaking urine", "I had an accident in my pants", "bladder problems since the spasm", "I'm incontinent",
        "I can't feel when I need to pee", "i cant stop peeing",
    ],
    "saddle_numbness": [
        "numb down there", "I'm numb in my groin", "numb in my groin", "my groin is numb", "my butt feels numb",
        "numbness around my bottom", "tingling in my private parts", "I can't feel my privates",
        "no feeling down there", "I have no feeling between my legs", "pins and needles in my crotch",
        "saddle numbness", "it's numb when I wipe",
    ],
    "legs": [
        "my legs gave out", "my leg gave out on the stairs", "my legs keep giving out", "my legs are numb",
        "my legs went numb", "my legs feel weak", "my leg is weak", "I can't feel my legs", "I cant move my legs",
        "I can't walk", "i cant stand up", "I can barely walk", "I haven't been able to walk",
        "I have no feeling in my legs",
        "pain down both legs", "the pain goes down both my legs", "tingling in both of my legs",
        "both legs are numb", "both my legs feel weak", "I'm paralyzed", "my foot is dragging",
        "I've lost strength in my legs",
    ],
    "fever": [
        "running a fever", "I have a fever", "I've got a temperature", "I have chills", "I'm shivering",
        "I threw up", "I've been throwing up", "I'm nauseous", "I feel sick to my stomach", "I'm vomiting",
        "I'm burning up", "I puked twice", "feeling feverish", "I'm queasy",
    ],
    "major_trauma": [
        "got rear-ended", "I got rear ended yesterday", "car crash", "I was in a car accident", "car wreck last week",
        "I was in a crash", "fell off a ladder", "I fell off the roof", "I fell down the stairs",
        "I fell down a flight of stairs", "fell from a ladder", "I was hit by a car", "I crashed my bike",
        "I fell about 10 feet", "motorcycle accident", "I got t-boned",
    ],
    "worsening_pain": [
        "it's getting worse", "the pain keeps getting worse", "worse and worse", "it gets worse every day",
        "the pain is getting worse even when I rest", "worsening pain",
    ],
    "minor_fall_fragile": ["I have osteoporosis", "I have thin bones", "brittle bones"],
    "sudden_severe_over60": [
        "I'm 72 and the pain came on suddenly", "I am 65 and it started suddenly",
        "the pain came on suddenly and I'm 81", "67 years old with sudden severe pain",
    ],
    "fall": ["I fell", "I slipped and fell on ice", "I fell yesterday", "we fell", "it started after a fall",
             "I had a fall at work"],
    "rest_night_pain": [
        "it wakes me up at night", "it's worse at night", "worse when I lie down", "the pain keeps me up at night",
        "hurts more when I rest", "I can't sleep because of the pain",
    ],
    "risk_history": [
        "had cancer", "I had cancer", "I had breast cancer 5 years ago", "I'm on chemo", "lost weight without trying",
        "I've lost a lot of weight", "I've been losing weight", "I dropped 20 pounds without trying",
        "on prednisone for years", "I've been on steroids for months", "I have a weak immune system", "I have HIV",
        "I use IV drugs", "I inject drugs", "I had a kidney transplant",
    ],
    # --- the shared emergency signs (flows/shared/universal.yaml) ---------------------------------------
    "crisis": [
        "my back pain is so bad i want to kill myself", "I want to die", "i dont want to be alive anymore",
        "everyone would be better off without me", "I'd be better off dead", "I have pills saved up",
        "I've been thinking about ending it all", "I don't want to wake up tomorrow", "im suicidal",
        "i keep thinking about hurting myself", "no reason to live anymore",
    ],
    "breathing": [
        "i cant breathe", "I'm having trouble breathing", "I'm so short of breath", "my lips are turning blue",
        "I can barely breathe", "I can't catch my breath",
    ],
    "chest_pain": [
        "crushing chest pain going through to my back and i cant breathe", "I have chest pain",
        "my chest feels tight", "pressure in my chest", "I think I'm having a heart attack",
        "a heavy feeling in my chest",
    ],
    "tearing_pain": [
        "sudden tearing pain between my shoulder blades, worst pain of my life, im 68",
        "it feels like something is ripping in my back", "a ripping pain in my chest",
    ],
    "stroke": [
        "my back hurts but now my face is drooping and my arm went weak and my words are slurred",
        "my speech is slurred", "one side of my face is drooping", "my left arm went numb all of a sudden",
        "I can't lift my arm", "I think I'm having a stroke", "I lost vision in one eye",
    ],
    "unresponsive": ["my husband won't wake up", "she's unresponsive", "he passed out and isn't responding"],
    "seizure": ["my wife is having a seizure", "I had a seizure", "he's convulsing"],
    "severe_bleeding": ["the bleeding won't stop", "I'm bleeding heavily", "there's blood everywhere"],
    "anaphylaxis": ["my throat is closing up", "my tongue is swelling", "hives all over and trouble breathing"],
    "overdose": [
        "i took like 20 tylenol for my back pain about an hour ago and now i feel sick", "I overdosed",
        "I took the whole bottle of pills", "I took too many muscle relaxers", "my kid swallowed bleach",
    ],
    "labor": [
        "im 31 weeks pregnant and my lower back pain comes and goes every 5 minutes and is getting stronger",
        "I'm 28 weeks pregnant and bleeding", "my water broke", "I'm pregnant and having contractions",
    ],
    "pregnancy": ["I'm pregnant", "I'm 10 weeks pregnant and my back hurts"],
}


def test_every_red_flag_in_the_flow_has_positive_phrasings_here() -> None:
    # A flag added to the flow without phrasings tested here fails this test.
    assert set(POSITIVE) == set(FLOW.red_flags)


def test_every_red_flag_names_its_source_and_has_phrases() -> None:
    for flag_id, flag in FLOW.red_flags.items():
        assert len(flag.source.strip()) > 10, flag_id
        assert "references.md" in flag.source or "Seed page" in flag.source, flag_id
        assert flag.phrases.get("en"), flag_id


@pytest.mark.parametrize("flag, text", [(flag, text) for flag, texts in POSITIVE.items() for text in texts])
def test_red_flag_phrasing_fires(flag: str, text: str) -> None:
    assert flag in flags(text), (text, flags(text))


@pytest.mark.parametrize("text", [
    "no numbness", "not numb", "I'm not numb", "no numbness down there", "no numbness in my groin",
    "I can pee fine", "I can pee fine thanks", "no bladder problems", "I have no bladder problems",
    "no problems with my bladder", "no trouble peeing", "I don't have any trouble peeing",
    "I haven't lost control of my bladder", "I haven't peed myself", "never wet myself",
    "I didn't fall", "no I didn't fall", "I haven't fallen", "no falls",
    "nothing down my legs", "no pain down my legs", "no weakness in my legs", "my legs aren't weak",
    "no fever", "I don't have a fever", "fever? no", "Fever: no", "fever - none", "no fever or chills",
    "no nausea or vomiting", "not throwing up", "I haven't thrown up",
    "never had cancer", "I've never had cancer", "no history of cancer", "I don't have cancer",
    "no weight loss", "I haven't lost weight", "not on steroids", "no steroids",
    "I didn't pass out", "I haven't fainted", "never lost consciousness", "no belly pain",
    "no car accident", "it's not getting worse", "it isn't getting any worse", "not worse at night",
    "I can walk fine", "I can feel my legs", "my legs are fine", "I can move both legs", "I can feel both legs",
    "I have strength in both legs", "I don't feel faint", "I wasn't in a car accident",
    "no chest pain", "I don't have any chest pain", "I'm not suicidal, just fed up", "I don't want to die",
    "I can breathe fine", "no trouble breathing", "I'm not pregnant", "no bleeding", "I didn't overdose",
    "no tengo dolor de pecho", "no quiero morirme", "mi esposo no se desmayó", "no se cayó",
])
def test_negated_twins_do_not_fire(text: str) -> None:
    assert flags(text) == set(), text


@pytest.mark.parametrize("text", [
    "I fell asleep on the couch", "my leg fell asleep", "my foot fell asleep while I was sitting",
    "my back hurts when I stand", "it hurts to stand", "it hurts when I stand up", "I can't stand this pain",
    "I can't stand up straight", "I can't stand for long", "I have hay fever", "the pain is faint now",
    "I'm trying to lose weight", "I had a steroid shot in my knee last year", "the pain shoots up my back",
    "I fell behind at work because of this", "my legs are tired", "I'm sick of this pain",
    "this pain is killing me", "I'm dying for some sleep", "me muero de dolor", "my chest of drawers fell on my foot",
    "I took 2 tylenol", "I took an advil this morning", "it's a stroke of luck the pharmacy was open",
    "my heart sank when I saw the bill", "I need to get this off my chest", "I'm dying to get back to the gym",
    "I could kill for a massage", "this spasm is going to be the death of me",
])
def test_mimics_do_not_fire(text: str) -> None:
    assert flags(text) == set(), (text, flags(text))


@pytest.mark.parametrize("text", [
    "it hurts to bend over", "my back is stiff", "I lifted a heavy box", "it's a bit better today", "I'm tired",
    "my back went into spasm lifting a box", "the spasm is in my lower back", "heat helps a bit",
    "I took ibuprofen", "it hurts when I twist", "I can't bend over", "I can't sit for long",
    "I hurt it moving furniture", "ice helps", "hi", "hello, my back hurts", "it's about the same",
    "I'm feeling better", "sore", "pretty bad spasm", "my back is killing me", "I can't get comfortable",
    "it started this morning", "the pain won't stop", "I was gardening all weekend",
])
def test_benign_back_spasm_sentences_do_not_fire(text: str) -> None:
    assert flags(text) == set(), (text, flags(text))


@pytest.mark.parametrize("text, expected", [
    ("no fever but I can't feel my legs", {"legs"}),
    ("no fever, but I can't feel my legs", {"legs"}),
    ("no numbness and I can't pee", {"bladder_bowel"}),
    ("I don't have a fever and I can't feel my legs", {"legs"}),
    ("I don't know why I can't walk", {"legs"}),
    ("no fever. I threw up though", {"fever"}),
    ("I didn't fall but I was in a car accident", {"major_trauma"}),
    ("no numbness after the fall", {"fall"}),
    ("fever? no. legs numb? yes", {"legs"}),
    ("No my legs are numb", {"legs"}),
    ("I wet myself and I have a fever", {"bladder_bowel", "fever"}),
    ("no fever, no numbness, I didn't fall", set()),
    ("I fell off a ladder and now I can't feel my legs", {"major_trauma", "legs", "fall"}),
])
def test_multi_clause_texts(text: str, expected: set[str]) -> None:
    assert flags(text) == expected, text


def test_findings_are_most_urgent_first_and_quote_the_patient() -> None:
    findings = detect(FLOW, "I have a fever, I passed out and I had cancer")
    assert [f.flag for f in findings][0] == "faint_shock_abdomen"
    assert worst(findings) is Level.call_911_now
    assert {f.quote for f in findings} >= {"passed out", "fever", "cancer"}
    assert worst([]) is None


def test_detector_is_insensitive_to_case_accents_and_apostrophes() -> None:
    for text in ("I CAN’T FEEL MY LEGS", "i can`t feel my legs", "I Cant Feel My Legs!!!"):
        assert flags(text) == {"legs"}, text


def test_garbage_is_no_red_flag() -> None:
    for text in ("", " ", "\x00\x01", "\U0001f62b" * 50, "x" * 5000, "%s%n{0}"):
        assert flags(text) == set()


@pytest.mark.parametrize("text, expected", [
    ("my legz went numm", {"legs"}), ("i feel parlyzed", {"legs"}), ("estoy bomitando", {"fever"}),
    ("lost feeling in my rear end, its numbb", {"saddle_numbness"}),
])
def test_misspelt_key_words_are_read_as_meant(text: str, expected: set[str]) -> None:
    assert flags(text) == expected, text


@pytest.mark.parametrize("text", ["I ate a bowl of cereal", "I feel weak in the knees about my new job",
                                  "my feet hurt from new shoes", "numbers are hard",
                                  "me hicieron un analisis de sangre", "i cant bake today",
                                  "i cant peel an orange with this back", "i cant wait for the weekend"])
def test_real_words_are_never_corrected_into_red_flags(text: str) -> None:
    # "analisis" is the dictionary's "análisis" without its accent, not a misspelt "paralisis"
    assert flags(text) == set(), (text, flags(text))


@pytest.mark.parametrize("text, expected", [
    ("ya no kiero vivir", {"crisis"}), ("kiero morirme", {"crisis"}),
    ("mi papa se kayo de la eskalera", {"major_trauma"}),
])
def test_texting_spanish_k_is_read_as_c_or_qu(text: str, expected: set[str]) -> None:
    # "kiero" is two edits from "quiero", past the typo reader; "kayo" is an English word, but a rare one
    assert flags(text) == expected, text


@pytest.mark.parametrize("text", ["me pasé la cuchilla por las piernas para depilarme", "i got kayoed at boxing lol",
                                  "no kiero ir al trabajo con este dolor", "my knee is ok"])
def test_verbs_with_pronouns_and_k_words_are_no_red_flag(text: str) -> None:
    # "depilarme" is "depilar" with "me", a real word, not a misspelt "debilarme"
    assert flags(text) == set(), (text, flags(text))


@pytest.mark.parametrize("text, expected", [
    ("i cant pea at all", {"bladder_bowel"}), ("no puedo orinal", {"bladder_bowel"}),
])
def test_a_sound_alike_where_a_verb_belongs_is_read_as_the_verb(text: str, expected: set[str]) -> None:
    # only right after "can't" / "no puedo", one letter off, and the key verb far the commoner word
    assert flags(text) == expected, text


@pytest.mark.parametrize("text", ["what if I lose control of my bladder later?", "what if my legs go numb",
                                  "im scared ill lose control of my bladder someday",
                                  "que pasa si pierdo el control de la vejiga",
                                  "¿y si luego pierdo el control de la vejiga?"])
def test_a_worry_about_later_is_no_sign_now(text: str) -> None:
    assert flags(text) == set(), (text, flags(text))


def test_a_suggested_flag_is_not_a_finding_until_confirmed() -> None:
    assert flags("my bottom feels weird") == set()
    [finding] = detect(FLOW, "my bottom feels weird", likely=True)
    assert (finding.flag, finding.sure) == ("saddle_numbness", False)


@pytest.mark.parametrize("text, flag", [
    ("i passed out in the bathroom and slept on the floor till morning", "faint_shock_abdomen"),
    ("my bottom has been numb since my long drive yesterday and it wont go away", "saddle_numbness"),
    ("my legs went weak, it went away but now its back", "legs"),
    ("I have a fever, I watched a movie to take my mind off it", "fever"),
    ("the pain keeps getting worse in this weather", "worsening_pain"),
    ("my face is drooping since the dentist yesterday", "stroke"),
    ("I choked on a candy and I cant breathe", "breathing"),
    ("my husband wont wake up and the dog keeps barking", "unresponsive"),
    ("my husband had a seizure in the car", "seizure"),
    ("he just had a heart attack", "chest_pain"),
    ("I had a car accident this morning, my last one was 10 years ago", "major_trauma"),
    ("i cant pee and im scared ill lose control of my bowels too", "bladder_bowel"),
    ("my legs are numb and im scared ill never walk again", "legs"),
    ("what if its nothing and i cant pee", "bladder_bowel"),
    ("my dad went down the stairs headfirst", "major_trauma"), ("un carro me pego cuando cruzaba", "major_trauma"),
    ("a truck hit me and then hit my mailbox", "major_trauma"),
])
def test_look_alike_rules_never_veto_a_real_emergency(text: str, flag: str) -> None:
    # `unless` patterns catch idioms and other people's past illnesses; said plainly, the emergency stands.
    assert flag in flags(text), (text, flags(text))


def test_two_named_scores_hold_only_when_the_second_is_higher() -> None:
    # The engine hook (service/engine/scores.py): a phrase or near rule naming `was` and `now` counts only for a rise;
    # without them, or with one unset, it holds as matched.
    pattern = re.compile(r"(?P<was>\d+) then (?P<now>\d+)|fine")
    assert rises(pattern.search("3 then 8"))
    assert not rises(pattern.search("8 then 3"))
    assert not rises(pattern.search("6 then 6"))
    assert rises(pattern.search("fine"))
    assert rises(re.search(r"(\d+) then (\d+)", "8 then 3"))
    parts, signs = re.compile(r"(?P<was>\d+) yesterday"), re.compile(r"(?P<now>\d+) now")
    assert rises_across(parts, signs, "4 yesterday", "9 now")
    assert not rises_across(parts, signs, "9 yesterday", "4 now")
    assert rises_across(re.compile(r"\d+ yesterday"), re.compile(r"\d+ now"), "9 yesterday", "4 now")
