"""What the nurse hears and reads during a callback: staff text, in English (as pages are), in one table.

What the patient hears or reads is the flow's (voice_callback_hello, callback_missed in
flows/shared/universal.yaml and its Spanish file), so `flows check` applies the language rules to it.
"""

from __future__ import annotations

STAFF_PHRASES: dict[str, str] = {
    # On the nurse's phone
    "whisper": "{clinic} nurse line. Callback for case {case}, {level}: {flags}.{spanish} "
               "Press 1 to call the patient now from the clinic number.",
    "spanish": " Spanish-speaking patient.",
    "no_key": "No key was pressed, so the patient was not called. Goodbye.",
    "calling": "Calling the patient now.",
    "case_closed": "Case {case} is resolved, so the patient was not called. Goodbye.",
    "talked": "The call with the patient has ended. Goodbye.",
    "no_answer": "The patient did not answer. To text them that a nurse tried to call, press 1. Otherwise, hang up.",
    "no_answer_no_text": "The patient did not answer, and cannot get texts from us. Goodbye.",
    "texted": "Done: the patient has been texted that you tried to call. Goodbye.",
    "not_texted": "No text was sent. Goodbye.",
    "trouble": "Sorry, this callback cannot go on. Please try again, or call the patient another way. Goodbye.",
    # Texts and answers to the nurse
    "calling_you": "Calling you at {phone} from the clinic number for case {case}: answer, listen, and press 1 "
                   "to be put through to the patient.",
    "patient_missed": "Case {case}: the patient did not answer your call. Reply MSG {case} <text> to text them "
                      "instead, or CALL {case} to try again.",
    "call_failed": "Case {case}: the call to your phone could not be placed. Reply CALL {case} to try again.",
    # Refusals
    "under_way": "A call for case {case} is already under way.",
    "hidden": "Case {case}: the patient's number is hidden, so they cannot be called back.",
    "no_phone": "Your account is not linked to a roster nurse, so there is no phone to ring first. An admin can "
                "give the account the name of a nurse in the roster.",
    "no_public_url": "Calls through the clinic number need PUBLIC_BASE_URL to be set. Please call the patient "
                     "another way.",
    "no_case": "No open case of yours to call about. Reply CALL <case>.",
}


def staff(name: str, **values: object) -> str:
    return STAFF_PHRASES[name].format(**values)
