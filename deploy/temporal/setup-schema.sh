#!/bin/sh
# Creates (or upgrades) Temporal's two databases on PostgreSQL: `temporal` (persistence) and
# `temporal_visibility` (SQL advanced visibility). Safe to run on every start: an existing
# schema is only brought up to date. After temporalio/samples-server compose/scripts/setup-postgres.sh.
set -eu
: "${POSTGRES_SEEDS:?set POSTGRES_SEEDS}" "${POSTGRES_USER:?set POSTGRES_USER}" "${POSTGRES_PASSWORD_FILE:?set POSTGRES_PASSWORD_FILE}"
SQL_PASSWORD="$(cat "$POSTGRES_PASSWORD_FILE")"
export SQL_PASSWORD
schema_dir=/etc/temporal/schema/postgresql/v12

sql_tool() {
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -u "$POSTGRES_USER" -p "${DB_PORT:-5432}" "$@"
}

setup_database() {
  database="$1"
  versioned="$2"
  sql_tool --db "$database" create
  # update-schema succeeds only on a schema that was set up: then it just upgrades it.
  if sql_tool --db "$database" update-schema -d "$schema_dir/$versioned/versioned"; then
    echo "database $database: schema up to date"
  else
    echo "database $database: setting up the schema"
    sql_tool --db "$database" setup-schema -v 0.0
    sql_tool --db "$database" update-schema -d "$schema_dir/$versioned/versioned"
  fi
}

setup_database temporal temporal
setup_database temporal_visibility visibility
echo 'Temporal schemas ready'
