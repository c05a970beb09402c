"""Helpline domain: the rules of ../shared/POLICY.md (P1-P11) in code."""
