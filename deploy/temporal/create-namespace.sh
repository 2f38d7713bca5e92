#!/bin/sh
# Waits for the Temporal frontend and creates the namespace if it does not exist (after
# temporalio/samples-server compose/scripts/create-namespace.sh). Idempotent. orderflow's
# search attributes are registered next, by `orderflow setup` (service orderflow-setup).
set -eu
: "${TEMPORAL_ADDRESS:?set TEMPORAL_ADDRESS}" "${TEMPORAL_NAMESPACE:?set TEMPORAL_NAMESPACE}"

attempt=1
until temporal operator cluster health >/dev/null 2>&1; do
  if [ "$attempt" -ge 60 ]; then
    echo "Temporal at $TEMPORAL_ADDRESS did not become healthy after $attempt attempts" >&2
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
