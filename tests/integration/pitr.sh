#!/usr/bin/env bash
# Backups and point-in-time restore (scripts/drill, doc/security.md): a cluster of its own with
# WAL archiving to pgBackRest and a full backup; ledger postings planted before and after a
# chosen time; the drill restores the ledger to that time into a fresh cluster, where the
# earlier postings are and the later ones are not, and `spazactl ledger check` passes.
source "$(dirname "$0")/lib.sh"
T=pitr
command -v pgbackrest >/dev/null || { fail "$T: pgbackrest is installed (scripts/lib.sh SPAZA_PACKAGES)"; exit 0; }

# A cluster from scratch every run, so that its repository holds this run's backup only.
CLUSTER=it-pitr
pg_down "$CLUSTER"
pg_down drill
DIR=$(pg_dir "$CLUSTER")
pg_run rm -rf "$DIR/data" "$DIR/backup" "$DIR/pgbackrest.conf" "$DIR/pgbackrest-log" "$DIR/pgbackrest-lock" "$DIR/pgbackrest-spool"
pg_up_retry "$CLUSTER" >/dev/null || { echo "could not start the $CLUSTER cluster" >&2; exit 1; }
at_exit "pg_down drill; pg_down '$CLUSTER'"
spazad_cfg "$T_TMP/pitr.cfg" 1 1
"$SPAZACTL" -c "$T_TMP/pitr.cfg" migrate >/dev/null || { echo "migration failed" >&2; exit 1; }
t0=$SECONDS
(pg_archive "$CLUSTER") >"$T_TMP/archive.log" 2>&1 ||
	{ fail "$T: WAL archiving and a full backup set up: $(oneline "$(cat "$T_TMP/archive.log")")"; exit 0; }
pass "$T: WAL archiving and a full backup set up ($((SECONDS - t0)) s)"

# plant N LAST4: N vouchers sold (one ledger transaction each, with its postings)
plant() {
	local i
	for ((i = 0; i < $1; i++)); do
		psql_val "SELECT spaza_voucher_issue(ARRAY[encode(sha256(('$T' || random())::bytea), 'hex')], ARRAY['$2'], 1000, NULL)" >/dev/null
	done
}
plant 3 1111
BEFORE_TXNS=$(psql_val "SELECT count(*) FROM ledger_txns")
next_second
TARGET=$(psql_val "SELECT now()")
next_second
plant 2 2222
check_eq "$T: the source has both plantings" "3|2" \
	"$(psql_val "SELECT count(*) FILTER (WHERE last4 = '1111') || '|' || count(*) FILTER (WHERE last4 = '2222') FROM vouchers")"
# the WAL holding the later postings must be archived too: recovery stops at the first commit past
# the target, and has to see one (pgbackrest check switches to a new WAL file and waits for it)
pgbr "$CLUSTER" check >/dev/null 2>&1 || fail "$T: pgbackrest check (the WAL is archived)"

t0=$SECONDS
"$SPAZA_TOP/scripts/drill" restore -c "$CLUSTER" -t "$TARGET" -s "$T_TMP/secrets" --keep >"$T_TMP/drill.out" 2>"$T_TMP/drill.err"
rc=$?
sed "s/^\(PASS\|FAIL\): drill: /\1: $T: drill: /" "$T_TMP/drill.out"
check_eq "$T: scripts/drill restore exits 0 ($((SECONDS - t0)) s)" "0" "$rc$([ "$rc" = 0 ] || oneline " $(tail -3 "$T_TMP/drill.err")")"
PORT=$(cat "$(pg_dir drill)/port" 2>/dev/null)
restored() { psql -X -p "${PORT:-1}" -qtAc "$1" 2>&1; }
check_eq "$T: the restored ledger has the postings from before $TARGET" "3" \
	"$(restored "SELECT count(*) FROM vouchers WHERE last4 = '1111'")"
check_eq "$T: ... and none from after it" "0" "$(restored "SELECT count(*) FROM vouchers WHERE last4 = '2222'")"
check_eq "$T: ... transaction for transaction" "$BEFORE_TXNS" "$(restored "SELECT count(*) FROM ledger_txns")"
check_eq "$T: the restored cluster is open for writes (promoted)" "f" "$(restored "SELECT pg_is_in_recovery()")"
check_eq "$T: the restored cluster archives nothing into the source's repository" "off" "$(restored "SHOW archive_mode")"
