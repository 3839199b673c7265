#!/usr/bin/env bash
# Installs the pinned outside tools the tests talk to: buf (npm, see package.json / package-lock.json)
# and Python grpcio with health, reflection and status (tests/python/requirements.txt) in .venv.
# Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v npm >/dev/null; then
  echo "setup: npm is required to install buf (@bufbuild/buf); install Node.js and npm" >&2
  exit 1
fi
buf_version=$(node -p 'require("./package.json").devDependencies["@bufbuild/buf"]')
if [ "$(node_modules/.bin/buf --version 2>/dev/null)" != "$buf_version" ]; then
  # `npm install` rather than `npm ci`: npm 11's ci rejects this lock file for leaving out the
  # optional binaries of other platforms. The exact version in package.json still pins buf, and
  # the check below fails loudly if anything else got installed.
  npm install --no-audit --no-fund
fi
if [ "$(node_modules/.bin/buf --version 2>/dev/null)" != "$buf_version" ]; then
  echo "setup: expected buf $buf_version at node_modules/.bin/buf, got '$(node_modules/.bin/buf --version 2>&1)'" >&2
  exit 1
fi
echo "setup: buf $buf_version"

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
if ! .venv/bin/python -c 'import grpc, grpc_health, grpc_reflection, grpc_status, grpc_tools' 2>/dev/null \
   || ! cmp -s tests/python/requirements.txt .venv/.requirements.txt; then
  .venv/bin/pip install --disable-pip-version-check -q -r tests/python/requirements.txt
  cp tests/python/requirements.txt .venv/.requirements.txt
fi
echo "setup: python $(.venv/bin/python -c 'import grpc; print("grpcio", grpc.__version__)')"
