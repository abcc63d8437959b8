"""The flow engine: (flow, state, input) -> (new state, messages, actions). Pure: no I/O, no clock.

Order of precedence for an inbound text, safest first:
1. keywords (STOP must always work; HELP or START as an opening also begins the triage);
2. a crisis hold: after a crisis every text goes to the nurse, no automated questions;
3. red flags anywhere in the text, the shared emergency signs (universal.yaml) first (escalate even
   if not asked yet);
4. a confirming question that is out ("Do you mean ...? Reply YES or NO");
5. a first text: urgent words put the 911 line first; a child, an office request or another
   complaint is not forced through the flow's screen (its `scope`);
6. the answer to the question the patient is at: hedges and implied answers read against the
   question; unclear words that suggest a red flag get a confirming question; otherwise re-asked,
   never guessed.
A photo with no words (`media`) answers nothing; nor does a text that reached us `late` (inputs.py; spooled in an
outage while the conversation moved on), though its red flags and keywords count as ever.
"""

from __future__ import annotations

from .answers import NO, YES, is_yes_no, opens_with_yes, parse_answer
from .flow import Flow, FreeText, Info, Level, Outcome, Question, most_urgent
from .implied import hedge, implied
from .inputs import MEDIA_QUOTE as MEDIA_QUOTE  # public: what the nurse is told of a photo with no words
from .inputs import late_text, media_only
from .keywords import Keyword, match_keyword
from .language import detect_language
from .openings import Opening, classify_opening, urgent_words
from .redflags import Finding, detect, looks_alike
from .render import Context, Env, localize, node_text, prompt
from .replies import YES_NO, confirm_question, held, merge, phrase, repeat
from .state import (
    ACTIVE,
    DONE,
    STOPPED,
    Action,
    CancelCheckins,
    Escalate,
    ForwardToNurse,
    Message,
    OptIn,
    OptOut,
    Result,
    ScheduleCheckin,
    SetLanguage,
    State,
)

_MAX_CHAIN = 50  # info -> info -> ... guard; lint already rejects loops without an outcome


def step(flow: Flow, state: State, text: str, context: Context | None = None, channel: str = "sms", *,
         opted_out: bool = False, with_nurse: bool = False, media: int = 0, late: bool = False) -> Result:
    """Handle one inbound text (SMS body, or a caller's speech or keypress turned into text).
    `opted_out`: the patient has opted out of texts (no replies; START re-subscribes rather than begins).
    `with_nurse`: a nurse has the patient's open case (say the message went to them, not "reply NURSE").
    `media`: photos or files with the text (MMS). `late`: sent before the conversation last changed."""
    env = Env(context or {}, channel, opted_out, with_nurse)
    if opted_out and match_keyword(text) not in (Keyword.start, Keyword.help):
        return _while_opted_out(flow, state, text)
    state, chosen = _language_at_start(flow, state, text)
    result = _step(flow, state, text, env, media, late)
    if with_nurse and any(m.key == "after_outcome" for m in result.messages):
        reassure = phrase(flow, "open_emergency", result.state, env)
        result = Result(result.state, [reassure if m.key == "after_outcome" else m for m in result.messages],
                        result.actions)
    if chosen is not None and not any(isinstance(a, SetLanguage) for a in result.actions):
        result = Result(result.state, result.messages, [SetLanguage(chosen), *result.actions])
    if result.state.privacy_notice_sent or not result.messages or result.state.status == STOPPED \
            or channel != "sms":
        return result
    # Told once, in the first reply: texts are not encrypted; emergencies go to 911 (HIPAA, references.md).
    notice = phrase(flow, "privacy", result.state, env)
    messages = [result.messages[0], notice, *result.messages[1:]]
    return Result(result.state.evolve(privacy_notice_sent=True), messages, result.actions)


def _while_opted_out(flow: Flow, state: State, text: str) -> Result:
    """No texts after STOP (carrier rules), but a red flag or a request for a nurse still reaches the
    nurse, who can call: an opt-out from texts is not an opt-out from care."""
    findings = detect(flow, text)
    if findings:
        return Result(state, [], [Escalate(findings[0].level, outcome_of(flow, findings[0].flag),
                                           tuple(f.flag for f in findings), "red flag texted by an opted-out patient",
                                           tuple(f.quote for f in findings))])
    if match_keyword(text) is Keyword.nurse:
        level = flow.outcome(flow.nurse_outcome).level
        return Result(state, [], [Escalate(level, flow.nurse_outcome, (),
                                           "opted-out patient asked for a nurse (call, do not text)")])
    return Result(state, [], [])


def _language_at_start(flow: Flow, state: State, text: str) -> tuple[State, str | None]:
    """The first message of a conversation, when clearly Spanish, makes the conversation Spanish."""
    if state.node is not None or state.outcome is not None or state.answers:
        return state, None
    language = detect_language(text)
    if language is None or language == state.language or language not in flow.languages:
        return state, None
    return state.evolve(language=language), language


def _opening_state(state: State) -> bool:
    """No conversation under way: what the patient sends now is their opening."""
    return state.node is None and state.outcome is None and not state.answers and state.status != DONE


def _step(flow: Flow, state: State, text: str, env: Env, media: int = 0, late: bool = False) -> Result:
    if media and not text.strip():
        return media_only(flow, state, env)
    keyword = match_keyword(text)
    if keyword is not None and not (state.held and keyword in (Keyword.nurse, Keyword.restart)):
        return _keyword(flow, state, keyword, env)
    if state.status == STOPPED:
        state = State(language=state.language, privacy_notice_sent=state.privacy_notice_sent)
    if state.held:
        return held(flow, state, text, env)
    if late:
        return late_text(flow, state, text, env, _red_flag)
    findings = detect(flow, text, likely=True)
    sure = [f for f in findings if f.sure]
    if sure:
        if state.confirm is None:
            sure = _with_answer(flow, state, sure, text)
        return _red_flag(flow, state.evolve(confirm=None), sure, text, env)
    if state.confirm is not None:
        return _confirm_answer(flow, state, text, env)
    if state.node is None:
        if findings:
            return _ask_confirm(flow, state, findings[0], env)
        if state.status == DONE:
            return Result(state, [phrase(flow, "after_outcome", state, env)], [])
        return _opening(flow, state.evolve(status=ACTIVE), text, env)
    return _answer(flow, state, text, env, findings)


_OFF_SCREEN = (Opening.child, Opening.admin, Opening.other)


def _opening(flow: Flow, state: State, text: str, env: Env, first: list[Message] | None = None) -> Result:
    """The first text of a conversation: most begin the screen; some are not for it (flow.scope)."""
    opening = classify_opening(flow, text)
    lead = list(first or [])
    if opening is Opening.urgent or (opening is not Opening.plain and urgent_words(flow, text)):
        lead.insert(0, phrase(flow, "urgent_opening", state, env))
    target = {Opening.child: flow.openings.child_outcome, Opening.admin: flow.openings.admin_outcome,
              Opening.other: flow.scope.ask if flow.scope else None}.get(opening) or flow.start
    reason = {Opening.child: "the patient is a child", Opening.admin: "an office request"}.get(opening, "")
    entered = _enter(flow, state, target, env, reason=reason)
    return Result(entered.state, lead + entered.messages, entered.actions)


def _ask_confirm(flow: Flow, state: State, finding: Finding, env: Env) -> Result:
    """The words suggest a red flag without saying it plainly: ask, rather than "didn't understand"."""
    state = state.evolve(confirm=f"flag:{finding.flag}", quotes=merge(state.quotes, (finding.quote,)))
    return Result(state, [confirm_question(flow, finding.flag, state, env)], [])


def _confirm_answer(flow: Flow, state: State, text: str, env: Env) -> Result:
    """The reply to a confirming question: yes escalates (or takes the red-flag answer), no goes back to
    the question, anything else goes to a nurse: a possible red flag is never left unresolved."""
    kind, _, subject = (state.confirm or "").partition(":")
    answer = parse_answer(YES_NO, text)  # words, or keys on a call
    state = state.evolve(confirm=None)
    if kind == "flag":
        flag = flow.red_flags[subject]
        if answer == YES:
            finding = Finding(subject, flag.level, state.quotes[-1] if state.quotes else subject)
            return _red_flag(flow, state, [finding], text, env, reason="red flag confirmed by the patient")
        if answer == NO:
            if state.node is None:
                return _opening(flow, state.evolve(status=ACTIVE), "", env) if state.status != DONE else \
                    Result(state, [phrase(flow, "after_outcome", state, env)], [])
            return Result(state, repeat(flow, state, env), [])
        reason = f"could not confirm a possible red flag: {flag.label}"
        return goto_outcome(flow, state, flow.unclear_outcome, (), reason, (), env)
    node = flow.nodes[subject]
    assert isinstance(node, Question), subject
    if answer is None:
        reason = "could not complete screening: a hedged answer not confirmed"
        return goto_outcome(flow, state, flow.unclear_outcome, (), reason, (), env)
    return _choose(flow, state, node, answer, env)


def _keyword(flow: Flow, state: State, keyword: Keyword, env: Env) -> Result:
    if keyword is Keyword.stop:
        return Result(state.evolve(status=STOPPED, node=None, confirm=None), [phrase(flow, "stop", state, env)],
                      [OptOut(), CancelCheckins()])
    if keyword is Keyword.start:
        if env.opted_out or state.status == STOPPED or not _opening_state(state):
            return Result(state, [phrase(flow, "start", state, env)], [OptIn()])
        # START from someone who never opted out is a patient reaching out: begin.
        return _opening(flow, state.evolve(status=ACTIVE), "", env)
    if keyword is Keyword.help:
        if _opening_state(state) and not env.opted_out:
            # What carriers require, then the triage: "help" may be all a patient in trouble can type.
            return _opening(flow, state.evolve(status=ACTIVE), "help", env, [phrase(flow, "help", state, env)])
        return Result(state, [phrase(flow, "help", state, env), *repeat(flow, state, env)], [])
    if keyword is Keyword.nurse:
        return goto_outcome(flow, state, flow.nurse_outcome, (), "patient asked for a nurse", (), env)
    if keyword is Keyword.restart:
        fresh = State(language=state.language, privacy_notice_sent=state.privacy_notice_sent)
        return _enter(flow, fresh, flow.start, env)
    language = "es" if keyword is Keyword.spanish else "en"
    if language not in flow.languages:
        language = state.language
    switched = state.evolve(language=language)
    if switched.node is None and switched.status == ACTIVE and switched.outcome is None:
        # The very first text chose the language: start the questions in it.
        entered = _enter(flow, switched, flow.start, env)
        return Result(entered.state, entered.messages, [SetLanguage(language), *entered.actions])
    return Result(switched, repeat(flow, switched, env) or [phrase(flow, "help", switched, env)],
                  [SetLanguage(language)])


def outcome_of(flow: Flow, flag_id: str) -> str:
    """Where a red flag leads: its own outcome (a heart attack, a crisis) or its level's."""
    flag = flow.red_flags[flag_id]
    return flag.outcome or flow.level_outcomes[flag.level]


def _red_flag(flow: Flow, state: State, findings: list[Finding], text: str, env: Env,
              reason: str = "red flag in the patient's own words") -> Result:
    worst = findings[0]
    flags = tuple(f.flag for f in findings)
    quotes = tuple(f.quote for f in findings)
    own_outcome = flow.red_flags[worst.flag].outcome is not None and worst.flag not in state.red_flags
    if state.status == DONE and state.level is not None and state.level.rank >= worst.level.rank \
            and state.level.pages_nurse and not own_outcome:
        # Already with a nurse at this urgency or higher: reassure and pass the words on.
        return Result(state.evolve(red_flags=merge(state.red_flags, flags)),
                      [phrase(flow, "open_emergency", state, env)], [ForwardToNurse(" / ".join(quotes))])
    if worst.level.disposition == "emergency" or state.status == DONE:
        return goto_outcome(flow, state, outcome_of(flow, worst.flag), flags, reason, quotes, env)
    # Not an emergency: finish the screen (an emergency may still be found), then end no lower than this.
    state = state.evolve(red_flags=merge(state.red_flags, flags), quotes=merge(state.quotes, quotes))
    if state.node is None:
        return _enter(flow, state, flow.start, env)
    result = _answer(flow, state, text, env)
    if result.state.node == state.node and result.state.misses > state.misses:
        # The text said something important but answered nothing: note it, ask again, no penalty.
        return Result(state, [phrase(flow, "noted", state, env), *repeat(flow, state, env)], [])
    return result


def _answer(flow: Flow, state: State, text: str, env: Env, suggested: list[Finding] | None = None) -> Result:
    node = flow.nodes[state.node]  # type: ignore[index]
    if isinstance(node, FreeText):
        answers = {**state.answers, state.node: text[:500]}  # type: ignore[dict-item]
        return _enter(flow, state.evolve(answers=answers, misses=0), node.next, env)
    assert isinstance(node, Question), state.node
    choice_id, hedged_no = _read(flow, node, text)
    if hedged_no:
        just = phrase(flow, "just_to_be_sure", state, env)
        return Result(state.evolve(confirm=f"no:{state.node}"),
                      [Message("just_to_be_sure", f"{just.text} {prompt(flow, state.node, state.language, env)}")],
                      [])
    if choice_id is None:
        if suggested:
            return _ask_confirm(flow, state, suggested[0], env)
        if not state.answers and not state.misses and classify_opening(flow, text) in _OFF_SCREEN:
            # Their first words, said at the first question (a caller's, or "hi" then the real message).
            return _opening(flow, state, text, env)
        return _unclear(flow, state, node, env)
    return _choose(flow, state, node, choice_id, env)


def _read(flow: Flow, node: Question, text: str) -> tuple[str | None, bool]:
    """The choice a reply gives, hedges and implied answers read, and whether it is a hedged no."""
    yes_no = node.screening and is_yes_no(node)
    hedged = hedge(text) if yes_no else None
    if hedged == YES:
        # "a little", "kind of": a half-admitted yes is one, unless what is half admitted is the question's own flag's
        # look-alike ("a little constipated" at the bladder question): then it is no answer, and asked again
        flag = next((c.red_flag for c in node.choices if c.id == YES), None)
        if flag is not None and flag in flow.red_flags and looks_alike(flow, flag, text):
            return None, False
        return YES, False
    if hedged is not None:
        return None, True
    choice_id = parse_answer(node, text) or implied(node, text)
    if choice_id is None and yes_no and opens_with_yes(text):
        choice_id = YES
    return choice_id, False


def _with_answer(flow: Flow, state: State, findings: list[Finding], text: str) -> list[Finding]:
    """A red flag told beside an answer to a red-flag question: the answer's own flag counts too, the worse first
    ("yes, and I'm hot and cold" at the fainting question is 911, not the fever's emergency department)."""
    node = flow.nodes.get(state.node) if state.node else None
    if not isinstance(node, Question):
        return findings
    choice_id, _ = _read(flow, node, text)
    flag = next((c.red_flag for c in node.choices if c.id == choice_id), None)
    if flag is None or flag not in flow.red_flags or any(f.flag == flag for f in findings):
        return findings
    answered = Finding(flag, flow.red_flags[flag].level, text.strip())
    return sorted([*findings, answered], key=lambda f: -f.level.rank)


def _choose(flow: Flow, state: State, node: Question, choice_id: str, env: Env) -> Result:
    choice = next(c for c in node.choices if c.id == choice_id)
    answers = {**state.answers, state.node: choice_id}  # type: ignore[dict-item]
    flags = merge(state.red_flags, (choice.red_flag,)) if choice.red_flag else state.red_flags
    return _enter(flow, state.evolve(answers=answers, misses=0, red_flags=flags), choice.next, env)


def _unclear(flow: Flow, state: State, node: Question, env: Env) -> Result:
    misses = state.misses + 1
    if misses > flow.reask_limit:
        if node.screening:
            reason = "could not complete screening: answers not understood"
            return goto_outcome(flow, state, flow.unclear_outcome, (), reason, (), env)
        return Result(state.evolve(misses=0), [phrase(flow, "offer_nurse", state, env)], [])
    state = state.evolve(misses=misses)
    # Hints are written for texting ("Reply YES or NO"); on the phone the repeated question lists the keys.
    hint = localize(node.hint, state.language, env.values) if node.hint and env.channel == "sms" else ""
    unclear = phrase(flow, "unclear", state, env)
    body = " ".join(part for part in (unclear.text, hint) if part)
    return Result(state, [Message("unclear", body), *repeat(flow, state, env)], [])


def goto_outcome(flow: Flow, state: State, outcome_id: str, flags: tuple[str, ...], reason: str,
                  quotes: tuple[str, ...], env: Env) -> Result:
    state = state.evolve(red_flags=merge(state.red_flags, flags), quotes=merge(state.quotes, quotes))
    return _enter(flow, state, outcome_id, env, reason=reason)


def _enter(flow: Flow, state: State, node_id: str, env: Env, *, reason: str = "") -> Result:
    """Walk from node_id through info nodes to the next question or an outcome."""
    messages: list[Message] = []
    for _ in range(_MAX_CHAIN):
        node = flow.nodes[node_id]
        if isinstance(node, Info):
            messages.append(Message(node_id, node_text(flow, node_id, env.channel, state.language, env.values)))
            node_id = node.next
            continue
        if isinstance(node, (Question, FreeText)):
            messages.append(Message(node_id, prompt(flow, node_id, state.language, env)))
            return Result(state.evolve(node=node_id, status=ACTIVE, misses=0), messages, [])
        return _outcome(flow, state, node_id, node, messages, reason, env)
    raise RuntimeError(f"flow {flow.id}: info chain too long at {node_id}")


def floor(flow: Flow, state: State) -> Level | None:
    """The least urgent level this conversation may end at, from the red flags it has shown."""
    levels = [flow.red_flags[f].level for f in state.red_flags if f in flow.red_flags]
    return most_urgent(levels) if levels else None


def _outcome(flow: Flow, state: State, node_id: str, node: Outcome, messages: list[Message], reason: str,
             env: Env) -> Result:
    minimum = floor(flow, state)
    if minimum is not None and minimum.rank > node.level.rank:
        # A red flag noted earlier outranks where the answers led: never end below it.
        node_id = flow.level_outcomes[minimum]
        node = flow.outcome(node_id)
        reason = reason or "red flag noted earlier in the conversation"
    messages.append(Message(node_id, node_text(flow, node_id, env.channel, state.language, env.values)))
    actions: list[Action] = []
    if node.stop_checkins or node.checkins:
        actions.append(CancelCheckins())
    if node.level.rank >= Level.seen_within_3_days.rank:
        why = reason or node.reason or ("red-flag answer" if state.red_flags else node_id)
        actions.append(Escalate(node.level, node_id, state.red_flags, why, state.quotes))
    actions += [ScheduleCheckin(plan.ask, plan.after) for plan in node.checkins]
    # The conversation's level is the most urgent it has reached; a check-in reply never lowers it.
    level = node.level if state.level is None else most_urgent([state.level, node.level])
    new_state = state.evolve(node=None, status=DONE, outcome=node_id, level=level, misses=0, confirm=None,
                             held=state.held or node.hold)
    return Result(new_state, messages, actions)


