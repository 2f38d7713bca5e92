#!/bin/sh
# Waits for the Temporal frontend and creates the namespace if it does not exist (after
# temporalio/samples-server compose/scripts/create-namespace.sh). Idempotent. orderflow's
# search attributes are registered next, by `orderflow setup` (service orderflow-setup).
set -eu
: "${TEMPORAL_ADDRESS:?set TEMPORAL_ADDRESS}" "${TEMPORAL_NAMESPACE:?set TEMPORAL_NAMESPACE}"
# The temporal CLI reads its token from TEMPORAL_API_KEY only: take it from the Docker secret
# (a JWT with <namespace>:admin, docs/production-security.md). TLS comes from the CLI's own
# TEMPORAL_TLS_SERVER_CA_CERT_PATH / TEMPORAL_TLS_SERVER_NAME.
if [ -n "${TEMPORAL_API_KEY_FILE:-}" ]; then
  [ -s "$TEMPORAL_API_KEY_FILE" ] || { echo "TEMPORAL_API_KEY_FILE names $TEMPORAL_API_KEY_FILE, which is missing or empty; put the admin token there" >&2; exit 1; }
  TEMPORAL_API_KEY="$(tr -d '\r\n' < "$TEMPORAL_API_KEY_FILE")"
  export TEMPORAL_API_KEY
  unset TEMPORAL_API_KEY_FILE
fi

attempt=1
until temporal operator cluster health >/dev/null 2>&1; do
  if [ "$attempt" -ge 60 ]; then
    echo "Temporal at $TEMPORAL_ADDRESS did not become healthy after $attempt attempts (check its TLS settings and the token)" >&2
    exit 1
  fi
  attempt=$((attempt + 1))
  sleep 2
done

if temporal operator namespace describe --namespace "$TEMPORAL_NAMESPACE" >/dev/null 2>&1; then
  echo "namespace $TEMPORAL_NAMESPACE: already exists"
else
  temporal operator namespace create --namespace "$TEMPORAL_NAMESPACE" --retention "${NAMESPACE_RETENTION:-30d}"
  echo "namespace $TEMPORAL_NAMESPACE: created (retention ${NAMESPACE_RETENTION:-30d})"
fi
