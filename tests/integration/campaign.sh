#!/usr/bin/env bash
# A campaign end to end through the real Kannel path (doc/crm.md):
#   spazactl campaign create/preview/start -> spazad's token bucket -> outbox -> sendsms ->
#   smsbox -> bearerbox -> submit_sm at tools/spaza-smsc, whose receipts come back to /kannel/dlr.
# Quiet hours (set around now) hold everything back; moved away over the VTY, the campaign goes
# out: a customer who sent STOP gets nothing, nor one who switched offers off on USSD, the
# frequency cap (2 marketing SMS in 7 days) holds exactly, each language gets its own text and opt-out footer; a second campaign meets the cap
# the first one filled; the report's figures (sent, delivered, no consent, capped, dialled,
# ordered, paid, revenue) are what happened; the campaign's dial code opens the home screen (doc/crm.md,
# "One dial string, three meanings"). Prints one PASS:/FAIL: line per assertion.
source "$(dirname "$0")/lib.sh"
source "$SPAZA_TOP/scripts/kannel.sh"
set +e
T=campaign
SMSC=$SPAZA_TOP/tools/spaza-smsc
for bin in "$KANNEL_BIN/bearerbox" "$KANNEL_BIN/smsbox"; do
	[ -x "$bin" ] || { echo "SKIP: $T: $bin not installed (Debian package kannel)"; exit 0; }
done
[ -x "$SMSC" ] || { fail "$T: tools/spaza-smsc is built: run make"; exit 0; }

DIR=$VAR/test/$T
rm -rf "$DIR"
mkdir -p "$DIR"
K=test/$T-smsbox
at_exit "kannel_down $K >/dev/null 2>&1"

# ---- a database of its own: the campaign's audience is everyone in it ----
DB=spaza_it_campaign
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" >/dev/null 2>&1 ||
	{ fail "$T: a database of its own: expected one, got none"; exit 0; }
at_exit "psql -X -q -d postgres -c 'DROP DATABASE IF EXISTS $DB WITH (FORCE)' >/dev/null 2>&1"
SPAZA_CONNINFO="host=${PGHOST:-127.0.0.1} port=${PGPORT:-5432} user=$SPAZA_APP_ROLE dbname=$DB"
q() { psql -X -qtA -d "$DB" -c "$1"; }
own_cfg "$T_TMP/pre.cfg" 1 1
"$SPAZACTL" -c "$T_TMP/pre.cfg" catalog import "$SPAZA_TOP/menus/demo-catalog.csv" >/dev/null ||
	{ fail "$T: the catalogue imported into the database of its own"; exit 0; }

# ---- the SMSC simulator, commands through a FIFO (as kannel_e2e.sh) ----
SIM_PID= SIM_N=0 SIM_OUT=$DIR/smsc.out
sim_start() {
	local fifo=$T_TMP/sim.fifo
	mkfifo "$fifo"
	"$SMSC" -p "$1" -u spaza -w sim4test -t 20000 -i --auto-dlr delivered <"$fifo" >"$SIM_OUT" 2>&1 &
	SIM_PID=$!
	exec 9>"$fifo"
	rm -f "$fifo"
	wait_for 10 kannel_listening "$1"
}
sim_stop() {
	[ -n "$SIM_PID" ] || return 0
	printf 'quit\n' >&9 2>/dev/null
	exec 9>&-
	wait_for 10 sh -c "! kill -0 $SIM_PID 2>/dev/null" || kill "$SIM_PID" 2>/dev/null
	SIM_PID=
}
at_exit sim_stop
sim() { SIM_N=$((SIM_N + 1)); printf '%s\n' "$1" >&9; }
expect() { # expect WHAT LINE
	sim "$2"
	local n=$SIM_N
	if wait_for 40 grep -qE "^(ok|FAILED) stdin:$n: " "$SIM_OUT" && grep -q "^ok stdin:$n: " "$SIM_OUT"; then
		pass "$T: $1"
	else
		fail "$T: $1: $(oneline "$(grep -A4 "^FAILED stdin:$n: " "$SIM_OUT" | head -5; tail -n 3 "$SIM_OUT")")"
	fi
}
submits_to() { grep -cE "^<< submit_sm .* to=\+?$1 .*text=\"$2" "$SIM_OUT"; }
# got_sms WHAT MSISDN TEXT: the SMSC saw exactly that text submitted to that number (in whatever
# order the outbox's parallel sends arrive), within 30 s
has_sms() { grep "^<< submit_sm " "$SIM_OUT" | grep -F " to=$1 " | grep -qF "text=\"$2\""; }
got_sms() { check_true "$T: $1" "no submit_sm to $2 with text \"$3\" (see $SIM_OUT)" wait_for 30 has_sms "$2" "$3"; }

SMSC_PORT=$(free_port)
sim_start "$SMSC_PORT" || { fail "$T: spaza-smsc listens: $(cat "$SIM_OUT")"; exit 0; }
export KANNEL_SMSC_SYSTEM_ID=spaza KANNEL_SMSC_PASSWORD=sim4test
HTTP=$(free_port)
while [ "$HTTP" = "$SMSC_PORT" ]; do HTTP=$(free_port); done
kannel_up "$K" "$SMSC_PORT" "http://127.0.0.1:$HTTP/kannel/mo" >/dev/null 2>&1
check_true "$T: Kannel binds to the SMSC simulator" "not online within 30 s" kannel_wait_smsc 30

# quiet hours from an hour before now to an hour after (local time, as spazad reads it)
hhmm() { local m=$(( ($1 + 1440) % 1440 )); printf '%d%02d' $((m / 60)) $((m % 60)); }
NOW_M=$((10#$(date +%H) * 60 + 10#$(date +%M)))
QUIET_FROM=$(hhmm $((NOW_M - 60))) QUIET_TO=$(hhmm $((NOW_M + 60)))
spaza_secrets "$T_TMP/secrets"
spaza_secret_set "$T_TMP/secrets" kannel-sendsms-password "$KANNEL_SENDSMS_PASS"
OWN_CFG=$T_TMP/own.cfg OWN_LOG=$DIR/spazad.log OWN_PIDF=$T_TMP/own.pid OWN_VTY=$(free_port)
own_cfg "$OWN_CFG" "$HTTP" "$OWN_VTY" " kannel sendsms url $KANNEL_SENDSMS_URL username $KANNEL_SENDSMS_USER" \
	" kannel sendsms from 31555" " kannel dlr-url http://127.0.0.1:$HTTP/kannel/dlr" " sms outbox poll 1 in-flight 8" \
	" session idle-timeout 2" " crm quiet-hours from $QUIET_FROM to $QUIET_TO" " crm campaign cap 2 cap-days 7 rate 50"
"$SPAZAD" -c "$OWN_CFG" >"$OWN_LOG" 2>&1 &
OWN_PID=$!
echo "$OWN_PID" > "$OWN_PIDF"
at_exit "spazad_down '$OWN_PIDF'"
OWN_URL=http://127.0.0.1:$HTTP
if ! wait_for 30 curl -sf --noproxy '*' -o /dev/null "$OWN_URL/health"; then
	fail "$T: own spazad starts behind Kannel's smsbox (see $OWN_LOG)"; exit 0
fi
ctl() { "$SPAZACTL" -c "$OWN_CFG" "$@"; }

# ---- the customers: A en, B en (sends STOP), C en (2 marketing SMS this week: at the cap),
# D af (one this week, one 8 days ago: under it), E zu
for x in A B C D E; do eval "P$x=\$(t_phone 43)"; eval "M$x=27\${P$x#0}"; done
lang_of() { case $1 in D) echo af ;; E) echo zu ;; *) echo en ;; esac; }
for x in A B C D E; do
	eval "m=\$M$x"
	eval "I$x=$(q "INSERT INTO customers (msisdn, lang) VALUES ('+$m', '$(lang_of $x)') RETURNING id" | head -1)"
done
plant() { q "INSERT INTO sms_messages (customer_id, direction, kind, text, status, created_at)
	VALUES ($1, 'out', 'marketing', 'earlier', 'delivered', now() - interval '$2 days')" >/dev/null; }
plant "$IC" 1; plant "$IC" 3; plant "$ID" 2; plant "$ID" 8
sim "sms $MB 31555 STOP"
expect "B's STOP is confirmed by SMS" "expect-submit-sms to=$MB from=31555 text=\"/STOP|promotions|promosies/\""
check_eq "$T: B's opt-out is stored" "t" "$(q "SELECT opt_out FROM customers WHERE id = $IB")"
# F (en) dials the shop and switches offers by SMS off (My account > My points > Offers by SMS)
PF=$(t_phone 43)
MF=27${PF#0}
check_eq "$T: F switches offers by SMS off on USSD" "END Done: no more offers by SMS. Order and payment SMS still come." \
	"$(ussd "it-campaign-f-$$" "$PF" "7*2*2*1" "*120*777#" "$OWN_URL")"
IF=$(q "SELECT id FROM customers WHERE msisdn = '+$MF'")
check_eq "$T: F's opt-out is stored, from ussd" "t|ussd" "$(q "SELECT opt_out, opt_out_source FROM customers WHERE id = $IF")"

# ---- compose, preview, start
TEXT='Hi {name}, bread R15 today only: {offer}. Dial *120*777*55#'
out=$(ctl campaign create bread --text "$TEXT" --text-zu 'Sawubona {name}, isinkwa R15 namuhla: {offer}. Shayela *120*777*55#' \
	--text-af 'Hallo {name}, brood R15 net vandag: {offer}. Skakel *120*777*55#' --offer '2 for R28' --rule everyone \
	--at now --keyword BREAD --code '*120*777*55#' 2>&1)
check_match "$T: campaign create" "^campaign bread created" "$out"
out=$(ctl campaign preview bread 2>&1)
check_has "$T: preview counts the audience by language" "audience now: 6 (en 4, zu 1, af 1)" "$out"
check_has "$T: preview renders English at the worst case, with the footer" \
	"Hi WWWWWWWWWWWWWWWWWWWW, bread R15 today only: 2 for R28. Dial *120*777*55# Reply STOP to opt out" "$out"
check_has "$T: ... isiZulu with its footer" "Phendula ngo-STOP ukuze uyeke" "$out"
check_has "$T: ... Afrikaans with its footer" "Antwoord STOP om uit te teken" "$out"
check_match "$T: ... and each fits one SMS" "en: ok: [0-9]+ of 160 GSM-7 septets" "$out"
long=$(printf 'x%.0s' $(seq 1 150))
rc=0; out=$(ctl campaign create toolong --text "$long {name}" --rule everyone --at now 2>&1) || rc=$?
check_eq "$T: a text that cannot fit with the worst-case name and footer is refused (exit 2)" 2 "$rc"
check_match "$T: ... saying by how much" "GSM-7 septets, one SMS holds 160: [0-9]+ too many" "$out"
rc=0; out=$(ctl campaign create badph --text 'Hi {nmae}' --rule everyone --at now 2>&1) || rc=$?
check_has "$T: an unknown placeholder is refused" "unknown placeholder {nmae}" "$out"
rc=0; out=$(ctl campaign create stopkw --text 'Hi' --rule everyone --at now --keyword STOP 2>&1) || rc=$?
check_eq "$T: a keyword that is an SMS command is refused (exit 2)" 2 "$rc"
out=$(ctl campaign start bread 2>&1)
check_has "$T: start fixes the audience" "campaign bread started: 6 recipients" "$out"

# ---- quiet hours: nothing goes out
sleep 4
check_eq "$T: in the quiet hours every recipient is still pending" "6" \
	"$(q "SELECT count(*) FROM campaign_recipients WHERE state = 'pending'")"
expect "in the quiet hours nothing is submitted" "expect-none 2000"

# ---- out of the quiet hours (over the VTY): sent, with consent and the cap honoured
vty_open "$OWN_VTY"
vty "enable" >/dev/null; vty "configure terminal" >/dev/null; vty "spaza" >/dev/null
out=$(vty "crm quiet-hours from 860 to 100")
check_has "$T: a quiet hour that is no time of day is refused" "860 is no time of day" "$out"
vty "crm quiet-hours from $(hhmm $((NOW_M + 120))) to $(hhmm $((NOW_M + 180)))" >/dev/null
vty "end" >/dev/null
vty_close
got_sms "A gets the English text with the footer ({name} empty, no blank before the comma)" "$MA" \
	"Hi, bread R15 today only: 2 for R28. Dial *120*777*55# Reply STOP to opt out"
got_sms "D gets the Afrikaans text and footer (one SMS this week: under the cap of 2)" "$MD" \
	"Hallo, brood R15 net vandag: 2 for R28. Skakel *120*777*55# Antwoord STOP om uit te teken"
got_sms "E gets the isiZulu text and footer" "$ME" \
	"Sawubona, isinkwa R15 namuhla: 2 for R28. Shayela *120*777*55# Phendula ngo-STOP ukuze uyeke"
for i in 1 2 3; do expect "submitted SMS $i of 3 (the three above, in whatever order they went)" "expect-submit-sms from=31555"; done
expect "and nothing more is submitted" "expect-none 3000"
check_eq "$T: B (sent STOP) got no campaign SMS" "0" "$(submits_to "$MB" "Hi")"
check_eq "$T: C (at the cap) got no campaign SMS" "0" "$(submits_to "$MC" "Hi")"
check_eq "$T: F (offers switched off on USSD) got no campaign SMS" "0" "$(submits_to "$MF" "Hi")"
check_eq "$T: A got it exactly once" "1" "$(submits_to "$MA" "Hi")"
wait_for 20 sh -c "[ \"\$(psql -X -qtA -d $DB -c \"SELECT count(*) FROM sms_messages WHERE kind = 'marketing' AND status = 'delivered' AND text <> 'earlier'\")\" = 3 ]"
check_eq "$T: the recipients' states: A, D, E queued; B and F no consent; C capped" \
	"queued opted_out capped queued queued opted_out" \
	"$(q "SELECT string_agg(state, ' ' ORDER BY customer_id) FROM campaign_recipients")"

# ---- attribution: A dials the campaign's code and orders; E answers with the keyword; A's order is paid
sim "ussd-begin $MA *120*777*55# 4242"
expect "A dials the campaign's code: the home screen (no order 55 to pay)" \
	"expect-submit to=$MA its_session_info=4242 text=\"/^Welcome to Spaza/\""
sim "sms $ME 31555 bread"
expect "E's keyword reply is answered" "expect-submit-sms to=$ME from=31555"
r=$(ussd "it-campaign-$$" "$PA" "1*2*1*1*2*1" "*120*777#" "$OWN_URL")
ORDER=$(sed -n 's/^END Order #\([0-9]*\) placed.*/\1/p' <<<"$r")
check_match "$T: A orders after the SMS" '^[0-9]+$' "$ORDER"
q "SELECT outcome FROM spaza_credit_set_limit($IA, 100000)" >/dev/null
q "SELECT outcome FROM spaza_credit_hold('it-campaign-$$', $IA, $ORDER)" >/dev/null
q "SELECT outcome FROM spaza_credit_post($ORDER)" >/dev/null
TOTAL=$(q "SELECT total_cents FROM orders WHERE id = $ORDER")
expect "A's order-placed SMS goes out (transactional, beside the campaign)" "expect-submit-sms to=$MA from=31555 timeout=20000 text=\"/Order #$ORDER is placed/\""
expect "... and its paid SMS" "expect-submit-sms to=$MA from=31555 timeout=20000 text=\"/order #$ORDER is now paid/\""
wait_for 15 sh -c "[ \"\$(psql -X -qtA -d $DB -c \"SELECT count(*) FROM ussd_sessions WHERE service_code = '*120*777*55#'\")\" -ge 1 ]"
rep=$(ctl campaign report bread 2>&1)
REV=$(printf 'R%d.%02d' $((TOTAL / 100)) $((TOTAL % 100)))
want="campaign bread (done)
recipients  6
pending     0
queued      3
no consent  2
capped      1
sent        3
delivered   3
failed      0
opted out   0
dialled     2
ordered     1
paid        1
revenue     $REV"
check_eq "$T: the report: 3 sent and delivered, 2 without consent, 1 capped, dialled twice, one order paid" "$want" "$rep"

# ---- a second campaign meets the cap the first one filled: D is at 2 now, A and E at 1
ctl campaign create again --text 'Milk R12 today' --rule everyone --at now >/dev/null 2>&1
ctl campaign start again >/dev/null 2>&1
got_sms "A gets the second campaign" "$MA" "Milk R12 today Reply STOP to opt out"
got_sms "E gets it too (English text: no isiZulu one was given)" "$ME" "Milk R12 today Phendula ngo-STOP ukuze uyeke"
for i in 1 2; do expect "submitted SMS $i of 2 of the second campaign" "expect-submit-sms from=31555"; done
expect "and no one else" "expect-none 3000"
check_eq "$T: the cap held exactly: C and D capped, B and F without consent" "queued opted_out capped capped queued opted_out" \
	"$(q "SELECT string_agg(r.state, ' ' ORDER BY r.customer_id) FROM campaign_recipients r JOIN campaigns k ON k.id = r.campaign_id WHERE k.name = 'again'")"

check_eq "$T: the customer timeline's CRM view has the decisions" "campaign_no_consent|bread|campaign bread: not sent, opted out" \
	"$(q "SELECT kind || '|' || ref || '|' || summary FROM timeline_crm WHERE customer_id = $IB ORDER BY at LIMIT 1")"
check_eq "$T: ... F's too, after the USSD opt-out on the timeline" "profile_consent campaign_no_consent" \
	"$(q "SELECT string_agg(kind, ' ' ORDER BY at) FROM (SELECT kind, at FROM timeline_profile WHERE customer_id = $IF
		UNION ALL SELECT kind, at FROM timeline_crm WHERE customer_id = $IF AND ref = 'bread') t")"

# ---- a campaign for later can be paused and resumed; nothing goes before its time
ctl campaign create later --text 'Soon' --segment top --at '2999-01-01' >/dev/null 2>&1
ctl campaign start later >/dev/null 2>&1
check_eq "$T: pause" "campaign later paused" "$(ctl campaign pause later 2>&1)"
check_eq "$T: resume" "campaign later running" "$(ctl campaign resume later 2>&1)"
check_true "$T: spazad still runs" "pid $OWN_PID gone (see $OWN_LOG)" kill -0 "$OWN_PID"
check_true "$T: the SMSC simulator ran clean" "see $SIM_OUT" sh -c "! grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' '$SIM_OUT'"
