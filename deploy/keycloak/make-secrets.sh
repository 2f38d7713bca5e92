#!/bin/sh
# Makes the local OIDC provider's secrets (compose profile "oidc"), each a random value in its own
# file under secrets/ (ignored by git); an existing file is kept. Prints no secret.
#   secrets/oidc_ui_client_secret        the Temporal UI's client secret (Keycloak and temporal-ui)
#   secrets/oidc_worker_client_secret    client orderflow-worker (service account: orderflow:write)
#   secrets/oidc_setup_client_secret     client orderflow-setup (service account: orderflow:admin)
#   secrets/oidc_backend_client_secret   client shop-backend (service account: orderflow:write)
#   secrets/oidc_demo_password           password of the demo users "ops" and "viewer"
set -eu
out="${1:-$(cd "$(dirname "$0")/../.." && pwd)/secrets}"
command -v openssl >/dev/null 2>&1 || { echo "make-secrets: openssl is not installed; install it and run this again" >&2; exit 1; }
umask 077
mkdir -p "$out"
chmod 700 "$out"
for name in oidc_ui_client_secret oidc_worker_client_secret oidc_setup_client_secret oidc_backend_client_secret oidc_demo_password; do
  if [ -s "$out/$name" ]; then
    echo "$name: kept"
  else
    openssl rand -hex 24 > "$out/$name"
    echo "$name: created"
  fi
  chmod 444 "$out/$name"   # read by the containers' own users; the directory stays private
done
