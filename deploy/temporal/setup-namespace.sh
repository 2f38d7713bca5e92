#!/bin/sh
# Waits for the Temporal frontend, creates the namespace if it does not exist, and registers
# orderflow's search attributes (ORDERFLOW_SEARCH_ATTRIBUTES: NAME=Type pairs) that are
# missing. Idempotent: says what it created and what already existed.
set -eu
: "${TEMPORAL_ADDRESS:?set TEMPORAL_ADDRESS}" "${TEMPORAL_NAMESPACE:?set TEMPORAL_NAMESPACE}" "${ORDERFLOW_SEARCH_ATTRIBUTES:?set ORDERFLOW_SEARCH_ATTRIBUTES}"

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

existing="$(temporal operator search-attribute list --namespace "$TEMPORAL_NAMESPACE")"
for pair in $ORDERFLOW_SEARCH_ATTRIBUTES; do
  name="${pair%%=*}"
  type="${pair#*=}"
  if printf '%s\n' "$existing" | grep -qw "$name"; then
    echo "search attribute $name: already exists"
  else
    temporal operator search-attribute create --namespace "$TEMPORAL_NAMESPACE" --name "$name" --type "$type"
    echo "search attribute $name ($type): created"
  fi
done
