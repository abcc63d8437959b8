"""The Twilio error codes the service acts on, kept as data in one place (twilio.com/docs/api/errors).

Both the send path (outbox/transports.py: retry a failed REST call or not) and the delivery receipts
(outbox/delivery.py: try a check-in again later or not) read this table, so they cannot disagree.
"""

from __future__ import annotations

# No later attempt can fix these: invalid, unknown or landline numbers, a bad sender, blocked or
# opted-out recipients, free text outside WhatsApp's 24-hour window or no WhatsApp sender.
NEVER_DELIVERABLE = frozenset({21211, 21212, 21214, 21217, 21219, 21401, 21407, 21408, 21606, 21610, 21612, 21614,
                               30004, 30005, 30006, 63007, 63016})
# Every other code may pass later (30003 the handset is off or out of reach, 30007 carrier filtering,
# often temporary, 30008 unknown). A page that fails with one still moves to the next nurse at once
# (outbox/delivery.py): waiting is for check-ins only.
OPTED_OUT_AT_CARRIER = 21610  # the recipient replied STOP to the carrier: honour it as our own STOP
# Free text outside WhatsApp's 24-hour window (Twilio's code; the WhatsApp rule refuses with it too). Never
# deliverable as it was: only a template, or a new message from the patient, opens the way.
WHATSAPP_OUTSIDE_WINDOW = 63016
WHATSAPP_NO_SENDER = 63007  # no WhatsApp sender for the From address (ours too while WhatsApp is off)
