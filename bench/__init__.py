"""Load benchmark of the chat hub (not a test). Run ``python -m bench.load --help``."""
