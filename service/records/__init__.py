"""The triage as a clinical record: the structured summary a nurse reads first (summary.py, pure), and
the same conversation as FHIR (questionnaire.py: the flow as a Questionnaire; bundle.py: one conversation
as a Bundle), read from the database by store.py and offered by the CLI (cli.py) and the case page (views.py).
"""
