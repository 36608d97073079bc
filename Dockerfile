# syntax=docker/dockerfile:1
# The ota-action container: the GitHub Action (no arguments) and the CLI (arguments).
#
# The base is pinned by digest so a rebuild gets the same Python and Debian packages.
# Dependabot (.github/dependabot.yml, ecosystem "docker") proposes new digests; by hand:
#   docker buildx imagetools inspect python:3.12-slim-bookworm --format '{{.Manifest.Digest}}'
# Any Debian-based image with python3 and python3-venv works as a base, e.g. the one the
# container test builds with debootstrap:  --build-arg BASE_IMAGE=localhost/debian-py:bookworm
ARG BASE_IMAGE=python:3.12-slim-bookworm@sha256:782412e85d0f0984994c290652577d4018aff08145c85b262bb63dc0c7522254
FROM ${BASE_IMAGE}

LABEL org.opencontainers.image.title="ota-action" \
      org.opencontainers.image.description="Build, sign, inspect and verify Zigbee OTA upgrade files in CI" \
      org.opencontainers.image.source="https://github.com/ota-action/ota-action" \
      org.opencontainers.image.documentation="https://github.com/ota-action/ota-action#readme" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.vendor="ota-action developers"

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PATH=/opt/ota-action/venv/bin:$PATH

# Dependencies first (their layer survives source changes): exact versions with hashes,
# flit-core included so the package below builds without network build isolation.
COPY requirements/runtime.txt /opt/ota-action/requirements.txt
RUN python3 -m venv /opt/ota-action/venv \
 && /opt/ota-action/venv/bin/python -m pip install --no-cache-dir --require-hashes --no-deps \
        -r /opt/ota-action/requirements.txt

# The package from the checked-out source (the build context of `image: Dockerfile`).
# pip byte-compiles what it installs: without .pyc files start-up takes twice as long.
COPY . /opt/ota-action/src
RUN /opt/ota-action/venv/bin/python -m pip install --no-cache-dir --no-deps --no-build-isolation \
        /opt/ota-action/src \
 && cp /opt/ota-action/src/entrypoint.py /opt/ota-action/entrypoint.py \
 && rm -rf /opt/ota-action/src \
 && /opt/ota-action/venv/bin/python -I -m compileall -q /opt/ota-action/venv/lib \
 && /opt/ota-action/venv/bin/python -I -c "import ota_action.doors.action.run, ota_action.doors.cli"

# No USER (the runner mounts the workspace owned by its own user; root can write it and
# hands created files to that owner) and no WORKDIR (the runner sets /github/workspace).
# Absolute interpreter and -I: a workflow's PATH, PYTHONPATH or PYTHONHOME cannot leak in.
ENTRYPOINT ["/opt/ota-action/venv/bin/python", "-I", "-u", "/opt/ota-action/entrypoint.py"]
