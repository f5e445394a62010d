"""Canonical types shared by every protocol and provider. No I/O here."""
