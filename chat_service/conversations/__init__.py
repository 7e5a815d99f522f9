"""Conversations about one order or quote, their participants and messages.

Messages form a per-conversation log ordered by ``seq`` (1, 2, 3, ... with no
holes): text and system messages, and ``edit``/``delete`` entries that change
an earlier message. Whoever has seen everything up to ``seq`` N is brought up
to date by the entries after N.
"""
