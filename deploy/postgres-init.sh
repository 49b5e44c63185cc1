#!/usr/bin/env bash
# One database and one login per service, each login owning only its own database (ARCHITECTURE.md: no service
# reads another's tables). The postgres image runs this once, when its data volume is new
# (/docker-entrypoint-initdb.d); to add a service to an existing volume, run it by hand (deploy/README.md).
#
# Environment: POSTGRES_USER (the superuser), <SERVICE>_DB_PASSWORD for each service, and optionally
# WEIZHILI_SERVICES (default "disputes points relief jobmarket"). psql connects as libpq's PG* variables say
# (the image's init phase: the local socket).
set -euo pipefail

services="${WEIZHILI_SERVICES:-disputes points relief jobmarket}"

for service in $services; do
    password_var="$(echo "${service}" | tr '[:lower:]' '[:upper:]')_DB_PASSWORD"
    password="${!password_var:-}"
    if [[ -z "$password" ]]; then
        echo "postgres-init: ${password_var} is not set; refusing to create a login without a password" >&2
        exit 1
    fi
    echo "postgres-init: database and login ${service}"
    # psql variables (:"name" quotes an identifier, :'name' a literal), so no value is pasted into SQL text
    psql --no-psqlrc -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
        -v service="$service" -v password="$password" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'service')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'service') \gexec
ALTER ROLE :"service" WITH LOGIN PASSWORD :'password';
SELECT format('CREATE DATABASE %I OWNER %I ENCODING %L TEMPLATE template0', :'service', :'service', 'UTF8')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'service') \gexec
REVOKE ALL ON DATABASE :"service" FROM PUBLIC;
GRANT ALL ON DATABASE :"service" TO :"service";
SQL
done
