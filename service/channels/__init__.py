"""Twilio adapters, and nothing else: a Twilio form becomes a neutral input for the runtime; the runtime's
answer becomes TwiML. Twilio's vocabulary (and its error codes, twilio_errors.py) stays here."""
