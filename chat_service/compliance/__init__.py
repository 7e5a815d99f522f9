"""Compliance inside the service: each marketplace's policy, stored with its
full history and read by every process within seconds of a change."""
