#!/bin/sh
# Starts the local OIDC provider (Keycloak, compose profile "oidc") for trying the login: the
# realm in orderflow-realm.json is imported on the first start, its ${...} placeholders
# filled from the environment (Keycloak, "Importing and exporting realms":
# https://www.keycloak.org/server/importExport). The client secrets and the demo users'
# password come from Docker secrets, never from docker-compose.yml.
set -eu
# Shell built-ins only (the image is minimal): the first line of the file, without its newline.
secret() {
  [ -s "/run/secrets/$1" ] || { echo "keycloak: the secret $1 is missing or empty; run deploy/keycloak/make-secrets.sh" >&2; exit 1; }
  IFS= read -r value < "/run/secrets/$1" || [ -n "$value" ]
  printf '%s' "${value%"$(printf '\r')"}"
}
ORDERFLOW_UI_CLIENT_SECRET="$(secret oidc_ui_client_secret)"
ORDERFLOW_WORKER_CLIENT_SECRET="$(secret oidc_worker_client_secret)"
ORDERFLOW_SETUP_CLIENT_SECRET="$(secret oidc_setup_client_secret)"
ORDERFLOW_BACKEND_CLIENT_SECRET="$(secret oidc_backend_client_secret)"
ORDERFLOW_DEMO_PASSWORD="$(secret oidc_demo_password)"
export ORDERFLOW_UI_CLIENT_SECRET ORDERFLOW_WORKER_CLIENT_SECRET ORDERFLOW_SETUP_CLIENT_SECRET ORDERFLOW_BACKEND_CLIENT_SECRET ORDERFLOW_DEMO_PASSWORD
: "${ORDERFLOW_UI_ORIGIN:?set ORDERFLOW_UI_ORIGIN}" "${ORDERFLOW_OIDC_AUDIENCE:?set ORDERFLOW_OIDC_AUDIENCE}"
exec /opt/keycloak/bin/kc.sh start-dev --import-realm
