#!/bin/sh
# Gets an access token (a JWT with the "permissions" claim) for one of the local OIDC provider's
# service-account clients, with the OAuth client-credentials grant, and writes it to standard
# output: redirect it into the secret file the service reads.
#
#   deploy/keycloak/mint-token.sh orderflow-worker > secrets/temporal_worker_token
#   deploy/keycloak/mint-token.sh orderflow-setup  > secrets/temporal_admin_token
#   deploy/keycloak/mint-token.sh shop-backend     > secrets/shop_backend_token
#
# Keycloak must be up (`docker compose --profile oidc up -d keycloak`) and published on
# OIDC_PUBLIC_URL (default http://localhost:8081). The tokens of these clients live 7 days
# (orderflow-realm.json): mint new ones and restart the services that read them before then.
set -eu
client="${1:-}"
case "$client" in
  orderflow-worker) secret_file=oidc_worker_client_secret ;;
  orderflow-setup) secret_file=oidc_setup_client_secret ;;
  shop-backend) secret_file=oidc_backend_client_secret ;;
  *) echo "usage: $0 orderflow-worker|orderflow-setup|shop-backend > secrets/<token file>" >&2; exit 2 ;;
esac
if [ -t 1 ]; then
  echo "mint-token: refusing to print a token to the terminal; redirect it into a file (see the usage in $0)" >&2
  exit 2
fi
secrets="$(cd "$(dirname "$0")/../.." && pwd)/secrets"
[ -s "$secrets/$secret_file" ] || { echo "mint-token: $secrets/$secret_file is missing; run deploy/keycloak/make-secrets.sh first" >&2; exit 1; }
base="${OIDC_PUBLIC_URL:-http://localhost:8081}/realms/orderflow"
# The client secret goes to curl on standard input (-K -), never on its command line.
response="$(printf 'user = "%s:%s"\n' "$client" "$(tr -d '\r\n' < "$secrets/$secret_file")" |
  curl -sS --fail-with-body -K - -d grant_type=client_credentials "$base/protocol/openid-connect/token")" || {
  echo "mint-token: $base refused or did not answer for client $client (is Keycloak up? same secret as when the realm was imported?)" >&2
  exit 1
}
token="$(printf '%s' "$response" | sed -n 's/.*"access_token" *: *"\([^"]*\)".*/\1/p')"
[ -n "$token" ] || { echo "mint-token: the answer from $base holds no access_token" >&2; exit 1; }
printf '%s\n' "$token"
