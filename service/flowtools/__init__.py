"""Tooling for flow authors and clinical reviewers, not on the patient's path: conversation tests as data
(conversation_tests.py, `flows test`), the red-flag report (report.py, `flows report`), the red-flag corpus
(corpus.py, `flows corpus`) and the flow diagram (graph.py, layout.py, diagram.py: `flows diagram` and the
dashboard's flow pages)."""
