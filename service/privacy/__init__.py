"""Patients' data at rest: encrypted columns and their keys, retention, one patient's record (export, erasure)."""
