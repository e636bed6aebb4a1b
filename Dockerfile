# The mlgate service: `docker build -t mlgate .` then
#   docker run -p 8080:8080 -v mlgate-home:/var/lib/mlgate mlgate
# The first start prints the tokens it created (docker logs). The embedded OPA engine decides;
# MLGATE_OPA_URL points the service at an OPA server instead, MLGATE_LEDGER_URL at PostgreSQL,
# MLFLOW_TRACKING_URI at the model registry. `make` does not build this image.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /opt/mlgate
COPY pyproject.toml README.md ./
COPY service ./service
COPY policies ./policies
COPY schemas ./schemas
# The embedded engine's bindings declare Python >= 3.14 but run on 3.11: installed on their
# own, as `make install` does (pyproject.toml says why). This image has no Go, so it takes the
# index's wheel, built against an older OPA than `make install` builds (scripts/opa_bindings.sh).
RUN pip install ".[server]" \
    && pip install --ignore-requires-python opa-golib-python-bindings==0.4.4 \
    && useradd --system --create-home --home-dir /var/lib/mlgate --uid 10001 mlgate

# Policies and schemas from the image (a mounted directory can replace them); state (ledger,
# signing key, tokens) in the volume.
ENV MLGATE_POLICY_DIR=/opt/mlgate/policies \
    MLGATE_SCHEMA_DIR=/opt/mlgate/schemas \
    MLGATE_HOME=/var/lib/mlgate \
    MLGATE_HOST=0.0.0.0 \
    MLGATE_PORT=8080
USER 10001
WORKDIR /var/lib/mlgate
VOLUME ["/var/lib/mlgate"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/readyz', timeout=4)"]
ENTRYPOINT ["mlgate"]
CMD ["serve"]
