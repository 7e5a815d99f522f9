"""Away-email bookkeeping owned by the core: pending notifications (one per
conversation and recipient), e-mail preferences and the signed tokens in
notification links. The ``notifier`` package sends; this package records.
"""
