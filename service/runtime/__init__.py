"""The runtime: every input (a patient's text or call, a nurse's text, a dashboard action, a clock job)
goes through one envelope (envelope.py) around the pure engine, and its actions through one table
(actions.py)."""
