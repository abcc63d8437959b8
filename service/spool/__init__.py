"""The outage spool: Twilio requests the service could not take (the database was down), kept on disk.

Twilio's fallback URLs (/twilio/fallback/sms, /twilio/fallback/voice) and the webhooks' own
database-down answers append each request to SPOOL_DIR/inbound.jsonl (store.py: one JSON line each,
fsync'd) and answer safely without the database (routes.py). Once the database answers again the clock
(feature.py), or `flask --app service spool replay` (cli.py), feeds each one back through the normal path
(replay.py): a text through the SMS runtime, a call as a missed call for a nurse callback. Each is taken
once: the runtime's receipts key on the MessageSid or CallSid, and replay.jsonl records what was done.
"""
