#!/usr/bin/env bash
# Runs the EMR kit's tests against moto's local AWS server (S3 and EMR on 127.0.0.1).
#
#   bash emr/tests/run.sh [pytest arguments]
#
# Installs the pinned moto, aws CLI and pytest in ${PAWS_CACHE:-~/.cache/paws}/aws-venv
# when missing (scripts/lib.sh need_aws_tools), unless PAWS_AWS_VENV names a venv that
# has them already. A test that cannot start moto fails (PAWS_REQUIRE_MOTO=1).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ -z "${PAWS_AWS_VENV:-}" ]]; then
    source "$here/../../scripts/lib.sh"
    need_aws_tools
fi
venv=$PAWS_AWS_VENV
# The tests run `aws` from PATH: the venv's, the awscli version they were written for.
export PATH="$venv/bin:$PATH"
export PAWS_MOTO_SERVER="${PAWS_MOTO_SERVER:-$venv/bin/moto_server}"
# -rs: a skipped test says why.
exec "$venv/bin/python" -m pytest -q -rs -p no:cacheprovider "$here" "$@"
