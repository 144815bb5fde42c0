#!/usr/bin/env bash
# Back up or restore kami's PostgreSQL database with the database's own tools.
#   postgres.sh backup        pg_dump (custom format) into $BACKUP_DIR/kami-<UTC time>.dump,
#                             keep the newest $BACKUP_KEEP
#   postgres.sh restore FILE  pg_restore a dump into $PGDATABASE (which must exist and be empty)
# Reads libpq's own variables: PGHOST, PGPORT, PGUSER, PGDATABASE and PGPASSWORD or PGPASSFILE.
# Used by the restore drill in tests/deploy/test_backup_restore.py; docs/runbook.md#disaster-recovery.
set -euo pipefail

: "${PGHOST:?set PGHOST}" "${PGUSER:?set PGUSER}" "${PGDATABASE:?set PGDATABASE}"

case "${1:-}" in
  backup)
    : "${BACKUP_DIR:?set BACKUP_DIR}"
    keep="${BACKUP_KEEP:-14}"
    target="$BACKUP_DIR/kami-$(date -u +%Y%m%dT%H%M%S.%NZ).dump"
    partial="$target.partial"
    trap 'rm -f "$partial"' EXIT
    pg_dump --format=custom --no-owner --no-privileges --file="$partial"
    mv "$partial" "$target"
    echo "backed up $PGDATABASE to $target ($(wc -c < "$target") bytes)"
    ls -1t "$BACKUP_DIR"/kami-*.dump | tail -n +"$((keep + 1))" | xargs -r rm -f --
    ;;
  restore)
    source_file="${2:?restore needs the dump file}"
    pg_restore --no-owner --no-privileges --exit-on-error --single-transaction --dbname="$PGDATABASE" \
      "$source_file"
    echo "restored $source_file into $PGDATABASE"
    ;;
  *)
    echo "usage: $0 backup | restore FILE" >&2
    exit 2
    ;;
esac
