# Breather's container image: `breather serve` for a Slack or Teams workspace, migrations applied
# on every start. Build and run it with compose.yaml (Breather and PostgreSQL), or alone:
#   docker build -t breather .      podman build --format docker -t breather .
# (podman's default OCI format drops HEALTHCHECK; compose.yaml repeats the check.)
# Operating it, upgrades and backups: docs/operations.md.
#
# Not for the demo: `breather demo` and the sandbox messenger serve on loopback only.

ARG PYTHON_IMAGE=docker.io/library/python:3.11-slim-bookworm

# --- build: install Breather and its dependencies into a virtual environment ----------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot/ bot/
COPY handlers/ handlers/
COPY storage/ storage/
RUN python -m venv /opt/breather \
    && /opt/breather/bin/pip install --no-cache-dir . \
    && /opt/breather/bin/python -m compileall -q /opt/breather/lib

# --- run: the virtual environment, the entrypoint, and an unprivileged user ------------------
FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="Breather" \
      org.opencontainers.image.description="Private check-ins after hard calls, for contact-centre agents (Slack and Microsoft Teams)" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN groupadd --system --gid 10001 breather \
    && useradd --system --uid 10001 --gid breather --home-dir /var/lib/breather --create-home \
       --shell /usr/sbin/nologin breather \
    && mkdir -p /etc/breather
COPY --from=build /opt/breather /opt/breather
COPY docs/deploy/entrypoint.sh /usr/local/bin/breather-entrypoint
ENV PATH=/opt/breather/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MPLCONFIGDIR=/tmp/matplotlib \
    BREATHER_CONFIG=/etc/breather/breather.yml \
    BREATHER_HOST=0.0.0.0 \
    BREATHER_PORT=3000
WORKDIR /var/lib/breather
USER 10001:10001
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["breather-entrypoint", "healthcheck"]
ENTRYPOINT ["breather-entrypoint"]
CMD ["serve"]
