# syntax=docker/dockerfile:1
# kami: build with uv, run on python:3.13-slim as a non-root user.
# A current 3.13 patch release (the newest uv knew of when pinned; tests/deploy/test_container.py
# fails when it falls more than two patches behind the uv in use).
ARG PYTHON_IMAGE=python:3.13.18-slim-bookworm
ARG UV_IMAGE=ghcr.io/astral-sh/uv:0.13.9

FROM ${UV_IMAGE} AS uv

FROM ${PYTHON_IMAGE} AS build
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /app
# Dependencies first: this layer is rebuilt only when the lock file changes.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY kami ./kami
COPY apps ./apps
RUN uv sync --frozen --no-dev --no-editable

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="kami" \
      org.opencontainers.image.description="A stateless Litestar platform hosting several web applications" \
      org.opencontainers.image.licenses="MIT"
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 PATH="/app/.venv/bin:${PATH}" \
    KAMI_SERVER_HOST=0.0.0.0 KAMI_SERVER_PORT=8000 KAMI_DATA_DIR=/tmp/kami
RUN groupadd --system --gid 10001 kami && useradd --system --uid 10001 --gid kami --no-create-home kami
WORKDIR /app
COPY --from=build --chown=kami:kami /app/.venv /app/.venv
COPY --from=build --chown=kami:kami /app/kami /app/kami
COPY --from=build --chown=kami:kami /app/apps /app/apps
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD ["python", "-c", "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health/live', timeout=2).status != 200)"]
ENTRYPOINT ["kami"]
CMD ["serve"]
