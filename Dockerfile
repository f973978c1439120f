# dailypapers on a slim Python base: no torch, a non-root user, DATA_DIR a volume at /data.
# `docker compose up` (compose.yaml) runs PostgreSQL, two app workers and the scheduler;
# docs/deploy.md ("Docker") says how. The install is deploy/docker/install.sh, which the tests run.
FROM python:3.11-slim AS wheel
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN python -m pip wheel --quiet --no-cache-dir --disable-pip-version-check --no-deps -w /wheels .

FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 \
    PATH=/opt/dailypapers/venv/bin:$PATH \
    DAILYPAPERS_DATA_DIR=/data \
    DAILYPAPERS_LOG_FORMAT=json
COPY constraints.txt deploy/docker/install.sh /tmp/install/
COPY --from=wheel /wheels /tmp/install/wheels
RUN sh /tmp/install/install.sh /tmp/install/wheels/dailypapers-*.whl \
        /tmp/install/constraints.txt /opt/dailypapers/venv \
    && rm -rf /tmp/install \
    && useradd --system --uid 10001 --home-dir /data --create-home dailypapers
COPY sample /opt/dailypapers/sample
COPY deploy/docker/entrypoint.sh /usr/local/bin/dailypapers-entrypoint
USER dailypapers
WORKDIR /data
VOLUME /data
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
    CMD python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"
ENTRYPOINT ["dailypapers-entrypoint"]
CMD ["serve"]
