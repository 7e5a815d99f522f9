"""Fault drills: a hub, Redis, the store or a Celery worker dies mid-traffic.

Run ``python -m bench.drills <name>`` or ``python -m bench.drills all``; see
bench/README.md, "Fault drills".
"""
