#!/usr/bin/env bash
# Install what the service needs and run it on the embedded default
# (a real Redis and a MongoDB-wire store as child processes, data in .chat-data/).
. "$(dirname "$0")/venv.sh" embedded
exec .venv/bin/chat-service dev "$@"
