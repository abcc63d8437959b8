"""Check-in texts over the days after a triage: scheduling, quiet hours and caps, the clock job that sends
them and their reminders."""
