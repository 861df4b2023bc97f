"""Personalised letters, print files, e-mail sending, the send journal and the record."""

from __future__ import annotations
