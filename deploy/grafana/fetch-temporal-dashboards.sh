#!/bin/sh
# Fetches Temporal's Grafana dashboards (temporalio/dashboards, MIT) at a pinned commit into
# the directory Grafana provisions from, and checks each file's SHA-256. A file already
# there with the right checksum is kept (restarts work offline). No network at all: put the
# files there yourself (same names), or drop this service.
set -eu
commit=b5d9a1bc1888f73057f1639495e5773caad783ee
base="https://raw.githubusercontent.com/temporalio/dashboards/$commit"
target="${DASHBOARDS_DIR:-/dashboards}"

fetch() {
  source_path="$1"
  name="$2"
  sha256="$3"
  if [ -f "$target/$name" ] && echo "$sha256  $target/$name" | sha256sum -c >/dev/null 2>&1; then
    echo "$name: present"
    return
  fi
  curl --fail --silent --show-error --location --retry 5 --output "$target/$name.tmp" "$base/$source_path"
  if ! echo "$sha256  $target/$name.tmp" | sha256sum -c >/dev/null 2>&1; then
    rm -f "$target/$name.tmp"
    echo "$name: the download of $source_path at $commit does not have the expected SHA-256; not installed" >&2
    exit 1
  fi
  mv "$target/$name.tmp" "$target/$name"
  echo "$name: fetched ($source_path at $commit)"
}

fetch sdk/temporal-core-sdks-otel.json temporal-sdk.json 9fa56a1791bba2dee82bbc4e3773e5054c217e16ac0e2aa5b8b0f2f4b7ba5c30
fetch server/server-general.json temporal-server.json b1a02a0055083c12bffcb3e8b490aaccbc4e89660eb7c005283dd71b99a668d6
