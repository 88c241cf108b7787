#!/usr/bin/env bash
# Runs the EMR kit's tests against moto's local AWS server.
#   PAWS_AWS_VENV     venv with moto[server], awscli, boto3 and pytest (default /tmp/awsv)
#   PAWS_MOTO_SERVER  moto_server to start (default: the venv's)
#   PAWS_REQUIRE_MOTO=1  fail, instead of skipping, when there is no moto server
# Extra arguments go to pytest.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${PAWS_AWS_VENV:-/tmp/awsv}"
if [[ ! -x "$venv/bin/python" ]]; then
    echo "emr/tests/run.sh: no Python venv at $venv (set PAWS_AWS_VENV)" >&2
    exit 1
fi
# The tests run `aws` from PATH: the venv's, with the awscli version they were written for.
export PATH="$venv/bin:$PATH"
if [[ -z "${PAWS_MOTO_SERVER:-}" && -x "$venv/bin/moto_server" ]]; then
    export PAWS_MOTO_SERVER="$venv/bin/moto_server"
fi
# -rs: a skip (no moto server) says why.
exec "$venv/bin/python" -m pytest -q -rs "$here" "$@"
