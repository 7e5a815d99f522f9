"""Compliance policies: a pure model and pure decisions (no I/O).

The policy model, presets (Standard, GDPR, HIPAA) and decision functions land
with the compliance-policies issue; this package imports nothing of ours.
"""
