"""WhatsApp as a channel of its own: a patient who writes on WhatsApp is answered there, and every later text
to them (relays, nurse messages, check-ins) goes there too, inside WhatsApp's 24-hour window or as an
approved template; off until TWILIO_WHATSAPP_FROM is set."""
