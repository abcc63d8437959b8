"""Everything the service sends: outbound.py (the one outbound path: a persisted queue, claim, send, retry
with backoff), transports.py (console in dev, twilio.rest.Client in production: the only place outside
channels/ that speaks Twilio), delivery.py (Twilio's delivery receipts and the send-failure hooks)."""
