# Privacy (POPIA, doc/security.md): a run's log at notice level shows no phone number in full
# (masked as +2782****567), and `spazactl customer forget` erases a customer's number and
# texts from the whole database (a pg_dump holds it nowhere) while the ledger keeps every
# posting and still balances; the erasure is in the audit log.
source "$(dirname "$0")/lib.sh"
T=privacy

# ---- the log: a daemon at notice level, hit hard enough to log numbers (the hop limit)
own_up "$T" " limits hops-per-minute 3 sessions-per-hour 60" ||
	{ fail "$T: own spazad starts (log: ${OWN_LOG:-?})"; exit 0; }
PHONE=$(t_phone 74)
E164=$(e164 "$PHONE")
for i in 1 2 3 4 5; do ussd "$(t_sid)" "$PHONE" "" "" "$OWN_URL" >/dev/null; done
wait_for 5 grep -q "limit reached" "$OWN_LOG"
own_down "$T"
LOGTEXT=$(cat "$OWN_LOG")
check_has "$T: the notice-level log mentions the customer (masked)" "${E164:0:5}****${E164: -3}: hop limit reached" "$LOGTEXT"
check_lacks "$T: ... never the number in full (E.164)" "$E164" "$LOGTEXT"
check_lacks "$T: ... nor as dialled" "$PHONE" "$LOGTEXT"
check_lacks "$T: ... nor without its +" "${E164#+}" "$LOGTEXT"
UNMASKED=$(grep -oE '(\+[0-9]{8,15}|\b27[0-9]{9}\b|\b0[1-9][0-9]{8}\b)' "$OWN_LOG" | head -3 | tr '\n' ' ')
check_eq "$T: no unmasked phone number anywhere in the notice-level log" "" "$UNMASKED"

# ---- forget: a customer with an order paid by credit, SMS both ways, a session
ctl() { "$SPAZACTL" -c "$SPAZA_CFG" "$@"; }
FPHONE=$(t_phone 75)
FE164=$(e164 "$FPHONE")
ctl credit set-limit "$FPHONE" 500 >/dev/null
sid=$(t_sid)
ussd "$sid" "$FPHONE" "" >/dev/null
ORDER=$(ussd "$sid" "$FPHONE" "1*2*1*1*2*1" | sed -n 's/^END Order #\([0-9]*\) placed.*/\1/p')
sid=$(t_sid)
ussd "$sid" "$FPHONE" "" >/dev/null
r=$(ussd "$sid" "$FPHONE" "3*$ORDER*2*1")
check_match "$T: the customer to forget paid an order from credit" "paid from your credit" "$r"
ctl sms send "$FPHONE" "Hello $FE164, your order $ORDER ships soon" >/dev/null
CID=$(psql_val "SELECT id FROM customers WHERE msisdn = '$FE164'")
POSTINGS=$(psql_val "SELECT count(*) FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id
	WHERE a.owner_id = $CID AND a.kind IN ('customer_credit', 'store_credit')")
check_true "$T: ... with postings on their account" "none" test "${POSTINGS:-0}" -gt 0

out=$(ctl customer forget "$FPHONE" 2>&1); rc=$?
check_eq "$T: customer forget: exit 0" 0 "$rc"
check_match "$T: ... says the pseudonym" "customer $CID forgotten: now \+999[0-9]{11}" "$out"
DUMP=$T_TMP/dump.sql
pg_dump -X --data-only >"$DUMP" 2>"$T_TMP/dump.err" || pg_dump --data-only >"$DUMP" 2>"$T_TMP/dump.err"
check_true "$T: pg_dump of the database" "$(cat "$T_TMP/dump.err")" test -s "$DUMP"
for form in "$FE164" "${FE164#+}" "$FPHONE"; do
	check_lacks "$T: the number is nowhere in the database ($form)" "$form" "$(grep -F -- "$form" "$DUMP" | head -3)"
done
check_eq "$T: the customer's postings stay" "$POSTINGS" "$(psql_val "SELECT count(*) FROM ledger_entries e
	JOIN ledger_accounts a ON a.id = e.account_id WHERE a.owner_id = $CID AND a.kind IN ('customer_credit', 'store_credit')")"
check_eq "$T: ... on the same customer, now a pseudonym" "+999" "$(psql_val "SELECT left(msisdn, 4) FROM customers WHERE id = $CID")"
check_eq "$T: their SMS texts are erased" 0 "$(psql_val "SELECT count(*) FROM sms_messages WHERE customer_id = $CID AND text IS NOT NULL")"
check_eq "$T: ... and none is left to send" 0 "$(psql_val "SELECT count(*) FROM sms_messages WHERE customer_id = $CID AND status = 'queued'")"
out=$(ctl ledger check 2>&1); rc=$?
check_eq "$T: ledger check passes after forgetting" 0 "$rc"
out=$(ctl audit --who "$(id -un)")
check_match "$T: the erasure is in the audit log, by customer id, the number masked" \
	"ok +customer $CID +customer forget ${FPHONE:0:4}\*\*\*${FPHONE: -3}" "$out"
out=$(ctl customer forget "$FPHONE" 2>&1); rc=$?
check_eq "$T: forgetting again: no such customer any more" "1" "$rc"
