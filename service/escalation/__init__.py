"""Escalations: cases opened by red flags, pages to the on-call roster, re-pages and the chain, and the
operations nurses take on a case (by SMS or the dashboard)."""
