#!/usr/bin/env bash
# Back up or restore kami's MySQL/MariaDB database with the database's own tools.
#   mysql.sh backup           dump into $BACKUP_DIR/kami-<UTC time>.sql.gz, keep the newest $BACKUP_KEEP
#   mysql.sh restore FILE     load a dump into $MYSQL_DATABASE (which must exist and be empty)
# Reads MYSQL_HOST, MYSQL_PORT (3306), MYSQL_USER, MYSQL_DATABASE and MYSQL_PASSWORD or
# MYSQL_PASSWORD_FILE. Used by the Kubernetes CronJob, the Compose and Swarm one-shot services and the
# restore drill in tests/deploy/test_backup_restore.py; docs/runbook.md#disaster-recovery.
set -euo pipefail

: "${MYSQL_HOST:?set MYSQL_HOST}" "${MYSQL_USER:?set MYSQL_USER}" "${MYSQL_DATABASE:?set MYSQL_DATABASE}"
if [[ -n "${MYSQL_PASSWORD_FILE:-}" ]]; then
  password="$(cat "$MYSQL_PASSWORD_FILE")"
else
  password="${MYSQL_PASSWORD:?set MYSQL_PASSWORD or MYSQL_PASSWORD_FILE}"
fi

# The password goes in an option file readable only by us, never on a command line.
options="$(mktemp)"
trap 'rm -f "$options" "${partial:-}"' EXIT
chmod 600 "$options"
printf '[client]\nhost=%s\nport=%s\nuser=%s\npassword="%s"\n' \
  "$MYSQL_HOST" "${MYSQL_PORT:-3306}" "$MYSQL_USER" "$password" > "$options"

case "${1:-}" in
  backup)
    : "${BACKUP_DIR:?set BACKUP_DIR}"
    keep="${BACKUP_KEEP:-14}"
    target="$BACKUP_DIR/kami-$(date -u +%Y%m%dT%H%M%S.%NZ).sql.gz"
    partial="$target.partial"
    # One consistent snapshot of InnoDB tables without locking writers.
    mysqldump --defaults-extra-file="$options" --single-transaction --quick --routines --triggers \
      --no-tablespaces "$MYSQL_DATABASE" | gzip > "$partial"
    mv "$partial" "$target"
    echo "backed up $MYSQL_DATABASE to $target ($(wc -c < "$target") bytes)"
    ls -1t "$BACKUP_DIR"/kami-*.sql.gz | tail -n +"$((keep + 1))" | xargs -r rm -f --
    ;;
  restore)
    source_file="${2:?restore needs the dump file}"
    gzip -dc "$source_file" | mysql --defaults-extra-file="$options" "$MYSQL_DATABASE"
    echo "restored $source_file into $MYSQL_DATABASE"
    ;;
  *)
    echo "usage: $0 backup | restore FILE" >&2
    exit 2
    ;;
esac
