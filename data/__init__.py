"""Data files shipped with bptutor (installed as ``bptutor.data``); see README.md here."""
