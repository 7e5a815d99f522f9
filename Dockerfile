# The chat service image: API + WebSocket hub (`serve`), and the operator
# commands of `chat-service` (migrate, tenant, token, keys).
#
#   docker build -t marketplace-chat .
#   docker run --rm marketplace-chat --help
#
# Configuration comes only from CHAT_* environment variables (docs/protocol.md
# lists them); the image holds no secrets.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# An unprivileged user with a fixed uid, so volume permissions are predictable.
RUN groupadd --system --gid 10001 chat \
 && useradd --system --uid 10001 --gid chat --no-create-home --shell /usr/sbin/nologin chat

WORKDIR /app

# Only what the package build needs (see .dockerignore); every dependency
# ships manylinux wheels, so no compiler is installed. README* (the package's
# long description) is a wildcard so the build does not depend on it.
COPY pyproject.toml README* ./
COPY chat_service ./chat_service
COPY policies ./policies
COPY notifier ./notifier
COPY admin ./admin
RUN pip install . \
 && rm -rf build ./*.egg-info

USER chat

# Listen on every interface inside the container (the default is 127.0.0.1).
ENV CHAT_HOST=0.0.0.0 \
    CHAT_PORT=8000
EXPOSE 8000

# Liveness only: the process answers. Readiness (store and Redis) is /readyz.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('CHAT_PORT', '8000'), timeout=4)"]

ENTRYPOINT ["chat-service"]
CMD ["serve"]
