#!/usr/bin/env bash
# The one entry point on a fresh machine: brings Node >= 22 and pnpm when missing, installs the
# workspace, then runs a root script.   tooling/dev.sh demo | test | build | bench | <any pnpm args>
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

toolchain="$root/.toolchain"
node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

# A Node older than 22 (the machines here have 20) is replaced by Node 24 from the npm registry,
# kept in .toolchain/ so later runs start at once.
if [ -x "$toolchain/node_modules/.bin/node" ]; then
  export PATH="$toolchain/node_modules/.bin:$PATH"
elif [ "$(node_major)" -lt 22 ] || ! command -v pnpm >/dev/null 2>&1; then
  echo "dev.sh: bringing Node 24 and pnpm 10 into .toolchain/ (found Node $(node --version 2>/dev/null || echo none))" >&2
  mkdir -p "$toolchain"
  npm install --prefix "$toolchain" --no-save --no-audit --no-fund --loglevel=error node@24 pnpm@10.34.9 >&2
  export PATH="$toolchain/node_modules/.bin:$PATH"
fi
[ "$(node_major)" -ge 22 ] || { echo "dev.sh: Node $(node --version) is too old and could not be replaced" >&2; exit 1; }

frozen=--frozen-lockfile
[ -f pnpm-lock.yaml ] || frozen=
pnpm install $frozen --prefer-offline --reporter=append-only >&2

[ $# -gt 0 ] || set -- test
case "$1" in
  # the pump itself gets Ctrl-C (no pnpm in between to report it as a failure) and exits 0 after its orderly stop
  demo) pnpm exec turbo run build --filter=@pump/app-demo... --output-logs=errors-only >&2
        cd apps/demo && shift && exec node src/main.ts -c etc/demo.conf "$@" ;;
  test|build|bench|lint|typecheck) exec pnpm run "$@" ;;
  *) exec pnpm "$@" ;;
esac
