# The harness and its tests, run against the `localstack` compose service (see docker-compose.yml):
#   docker compose run --rm harness
# Editable install on purpose: the harness finds infra/, lambdas/ and scenarios/ relative to its
# own source tree, which a plain (site-packages) install would move away from them.
FROM python:3.11-slim

WORKDIR /app
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONUNBUFFERED=1

# Dependencies first, so editing tests or lambdas does not reinstall them.
COPY pyproject.toml README.md ./
COPY harness ./harness
RUN pip install -e '.[test]'

COPY infra ./infra
COPY lambdas ./lambdas
COPY scenarios ./scenarios
COPY tests ./tests

CMD ["python", "-m", "pytest", "-q", "tests/localstack", "--backend", "localstack"]
