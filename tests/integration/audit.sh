# The audit log (doc/security.md): every spazactl command that changes something, and every
# configuration command typed over the VTY, adds a row (who, what with numbers masked, when,
# the record before and after); `spazactl audit` lists them, filtered by time and by who; and
# the table refuses UPDATE, DELETE and TRUNCATE, for everyone.
source "$(dirname "$0")/lib.sh"
T=audit

ctl() { "$SPAZACTL" -c "$SPAZA_CFG" "$@"; }
ME=$(id -un)
START=$(psql_val "SELECT to_char(now(), 'YYYY-MM-DD HH24:MI:SS.US')")
PHONE=$(t_phone 73)
E164=$(e164 "$PHONE")

# ---- several commands, a change each
ctl credit set-limit "$PHONE" 100 >/dev/null
ctl credit set-limit "$PHONE" 250 >/dev/null
ctl sms send "$PHONE" "audit test $$" >/dev/null
ctl retailer add "Audit test $$ $RANDOM" >/dev/null
ctl vouchers issue --count 1 --value 10 --out "$T_TMP/pins" >/dev/null
ctl order status 999999999 shipped >/dev/null 2>&1	# no such order: a failed attempt
ctl credit show "$PHONE" >/dev/null		# reads only: not recorded
ctl credit set-limit not-a-number 5 >/dev/null 2>&1	# a usage error changes nothing: not recorded

out=$(ctl audit --since "$START" --who "$ME"); rc=$?
check_eq "$T: spazactl audit: exit 0" 0 "$rc"
MASKED=${PHONE:0:4}***${PHONE: -3}	# as typed, masked
check_has "$T: credit set-limit is recorded, the number masked" "credit set-limit $MASKED 100" "$out"
check_has "$T: ... with the limit before and after" "credit set-limit $MASKED 250"$'\n'"$(printf '%21s' '') before {\"limit_cents\": 10000}  after {\"limit_cents\": 25000}" "$out"
check_match "$T: ... by the OS user, from spazactl, on the customer" "spazactl +$ME +ok +customer [0-9]+ +credit set-limit" "$out"
check_has "$T: sms send is recorded" "sms send $MASKED audit test $$" "$out"
check_has "$T: retailer add is recorded" "retailer add Audit test $$" "$out"
check_has "$T: vouchers issue is recorded" "vouchers issue --count 1 --value 10 --out" "$out"
check_match "$T: a command that failed is recorded as failed" "failed +order 999999999 +order status 999999999 shipped" "$out"
check_lacks "$T: a command that only reads is not recorded" "credit show" "$out"
check_lacks "$T: a usage error is not recorded" "not-a-number" "$out"
check_lacks "$T: no number in full" "$E164" "$out"
check_lacks "$T: ... in any form" "${PHONE}" "$(psql_val "SELECT string_agg(action, ' ') FROM audit_log WHERE at >= '$START'")"
out=$(ctl audit --since "$START" --who "nobody-$RANDOM")
check_lacks "$T: --who filters by who" "credit set-limit" "$out"
out=$(ctl audit --since "2999-01-01")
check_lacks "$T: --since filters by time" "credit set-limit" "$out"
out=$(ctl audit --bogus 2>&1); rc=$?
check_eq "$T: an unknown option is a usage error" 2 "$rc"

# ---- the VTY: a configuration change typed in the config node, the peer as who
vty_open "$SPAZA_VTY_PORT"
vty "enable" >/dev/null
vty "configure terminal" >/dev/null
vty "spaza" >/dev/null
vty "limits till-requests-per-minute 600" >/dev/null
vty "kannel sendsms password hunter2-$$" >/dev/null
vty "end" >/dev/null
vty_close
wait_for 5 sh -c "[ \"\$(psql -X -qtAc \"SELECT count(*) FROM audit_log WHERE source = 'vty' AND at >= '$START'\")\" -ge 2 ]"
out=$(ctl audit --since "$START")
check_match "$T: a VTY configuration change is recorded, the peer as who" \
	"vty +127\.0\.0\.1:[0-9]+ +ok +- +limits till-requests-per-minute 600" "$out"
check_match "$T: a refused one too, its secret starred" "vty +127\.0\.0\.1:[0-9]+ +failed +- +kannel sendsms password \*\*\*\*" "$out"
check_lacks "$T: ... and not stored" "hunter2-$$" "$(psql_val "SELECT string_agg(action, ' ') FROM audit_log")"

# ---- append-only, for everyone (the owner too; the runtime role has no grant either)
N=$(psql_val "SELECT count(*) FROM audit_log")
out=$(psql -X -qtAc "UPDATE audit_log SET who = 'someone else' WHERE id = (SELECT max(id) FROM audit_log)" 2>&1); rc=$?
check_match "$T: UPDATE on the audit log is refused" "append-only \(UPDATE on audit_log\)" "$rc $out"
out=$(psql -X -qtAc "DELETE FROM audit_log" 2>&1); rc=$?
check_match "$T: DELETE on the audit log is refused" "append-only \(DELETE on audit_log\)" "$rc $out"
out=$(psql -X -qtAc "TRUNCATE audit_log" 2>&1); rc=$?
check_match "$T: TRUNCATE on the audit log is refused" "append-only \(TRUNCATE on audit_log\)" "$rc $out"
check_eq "$T: ... and every row is still there" "$N" "$(psql_val "SELECT count(*) FROM audit_log")"
