"""The functional core: (flow, state, input) -> (new state, messages, actions). No Flask, Twilio or database
imports here: texts (step.py), the clock's inputs (timed.py) and the phone menu (phone.py) are pure."""
