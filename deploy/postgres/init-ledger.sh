#!/bin/bash
# Runs once, when PostgreSQL initialises an empty data directory (docker-entrypoint-initdb.d):
# the effect ledger gets its own role and database, apart from Temporal's. The password
# comes from the ledger_db_password secret; the workers' ledger_url secret must carry it.
set -euo pipefail
ledger_password="$(cat "${ORDERFLOW_LEDGER_PASSWORD_FILE:?set ORDERFLOW_LEDGER_PASSWORD_FILE}")"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres -v ledger_password="$ledger_password" <<'SQL'
CREATE ROLE orderflow LOGIN PASSWORD :'ledger_password';
CREATE DATABASE orderflow OWNER orderflow;
SQL
echo 'orderflow ledger: role and database "orderflow" created'
