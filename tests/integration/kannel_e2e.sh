#!/usr/bin/env bash
# Spaza behind a real Kannel (Debian's kannel 1.4.5), end to end, with tools/spaza-smsc as the
# operator's SMSC:
#   spaza-smsc --SMPP--> bearerbox --> smsbox --GET /kannel/mo--> spazad (its own, own database)
#        ^                                 |  <--- sendsms (outbox) --+   |
#        +--------- submit_sm ------------+  --- dlr-url /kannel/dlr ---->+
#
# 1. smsbox front: a whole USSD dialogue (dial *120*777#, browse, order, END) with ussd_service_op 2
#    on every CON screen and 17 on the END, its_session_info echoed; the long code *120*777*<order>#
#    opens paying that order; an Afrikaans screen (not GSM-7) goes out as UCS-2 (data_coding 8); an
#    SMS STATUS round trip; the order-placed SMS goes out through the outbox and sendsms, and the
#    SMSC's receipt comes back through Kannel to /kannel/dlr and marks the row delivered; STOP then
#    `spazactl sms marketing`: nothing is submitted to that customer (a control customer gets it).
#    Faults: Kannel (bearerbox + smsbox) restarted in the middle of a dialogue, with a notification
#    queued meanwhile (the dialogue continues or ends cleanly, spazad serves the next one, the
#    notification goes out once Kannel is back); a duplicate MO (same Kannel id, curl as smsbox)
#    answered once; malformed meta-data, oversized text, unknown and vendor ussd_service_op values:
#    logged, answered or dropped, spazad never crashes (pid alive, /health 200).
# 2. native box front (bearerbox only, spazad as a box): the same dialogue, order and long code;
#    the order-placed SMS goes out over the box connection (no smsbox, no sendsms).
#    (tests/integration/kannel_box.sh covers the box's own faults, UCS-2 and SMS.)
# Prints one PASS:/FAIL: line per assertion.
source "$(dirname "$0")/lib.sh"
source "$SPAZA_TOP/scripts/kannel.sh"
set +e
T=kannel_e2e
SMSC=$SPAZA_TOP/tools/spaza-smsc

for bin in "$KANNEL_BIN/bearerbox" "$KANNEL_BIN/smsbox"; do
	[ -x "$bin" ] || { echo "SKIP: $T: $bin not installed (Debian package kannel)"; exit 0; }
done
[ -x "$SMSC" ] || { fail "$T: tools/spaza-smsc is built: run make"; exit 0; }

DIR=$VAR/test/$T
rm -rf "$DIR"
mkdir -p "$DIR"
K1=test/$T-smsbox
K2=test/$T-box
at_exit "kannel_down $K1 >/dev/null 2>&1; kannel_down $K2 >/dev/null 2>&1"

# ---- a database of its own: the outbox sends whatever is queued in its database ----
DB=spaza_kannel_e2e
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" >/dev/null 2>&1 ||
	{ fail "$T: a database of its own: expected one, got none"; exit 0; }
at_exit "psql -X -q -d postgres -c 'DROP DATABASE IF EXISTS $DB WITH (FORCE)' >/dev/null 2>&1"
SPAZA_CONNINFO="host=${PGHOST:-127.0.0.1} port=${PGPORT:-5432} user=$SPAZA_APP_ROLE dbname=$DB"
q() { psql -X -qtA -d "$DB" -c "$1"; }
own_cfg "$T_TMP/pre.cfg" 1 1
"$SPAZACTL" -c "$T_TMP/pre.cfg" catalog import "$SPAZA_TOP/menus/demo-catalog.csv" >/dev/null ||
	{ fail "$T: the catalogue imported into the database of its own"; exit 0; }

# ---- the simulator, interactive: commands through a FIFO, results as "ok stdin:N" / "FAILED stdin:N" ----
SIM_PID= SIM_N=0 SIM_OUT=
sim_start() { # sim_start PORT OUTFILE
	local fifo=$T_TMP/sim.fifo.$RANDOM
	mkfifo "$fifo"
	SIM_OUT=$2 SIM_N=0
	"$SMSC" -p "$1" -u spaza -w sim4test -t 20000 -i <"$fifo" >"$SIM_OUT" 2>&1 &
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
	wait "$SIM_PID" 2>/dev/null
	SIM_PID=
}
at_exit sim_stop
sim() { SIM_N=$((SIM_N + 1)); printf '%s\n' "$1" >&9; }	# one line, one command
# sim_result N SECONDS: wait for line N's verdict; 0 ok, 1 failed or none in time
sim_result() {
	wait_for "${2:-40}" grep -qE "^(ok|FAILED) stdin:$1: " "$SIM_OUT" || return 1
	grep -q "^ok stdin:$1: " "$SIM_OUT"
}
sim_why() { # the FAILED lines of line N, or the last lines of the output
	local w
	w=$(grep -A6 "^FAILED stdin:$1: " "$SIM_OUT" | grep -v "^<<\|^>>\|^--")
	[ -n "$w" ] || w="no verdict in time; last lines: $(tail -n 3 "$SIM_OUT")"
	oneline "$w"
}
# expect WHAT LINE: send an expect-* line, PASS when the SMSC saw it held
expect() {
	sim "$2"
	local n=$SIM_N
	if sim_result "$n"; then pass "$T: $1"; return 0; fi
	fail "$T: $1: $(sim_why "$n")"
	return 1
}
# last_submit_to MSISDN: the last submit_sm line the SMSC printed for MSISDN
last_submit_to() { grep -E "^<< submit_sm .* to=\+?$1 " "$SIM_OUT" | tail -n 1; }

clean_logs() { # clean_logs LABEL KANNEL-NAME SIMULATOR-OUTPUT
	check_true "$T: $1: spaza-smsc ran clean under the sanitizers" "see $3" \
		sh -c "! grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' '$3'"
	check_true "$T: $1: no PANIC in the Kannel logs" "see $VAR/$2" sh -c "! grep -qh PANIC '$VAR/$2'/*.log '$VAR/$2'/*.out"
}
alive() { kill -0 "$OWN_PID" 2>/dev/null && curl -sf --noproxy '*' -m 5 -o /dev/null "$OWN_URL/health"; }
check_alive() { check_true "$T: $1: spazad still runs and /health answers 200" "pid $OWN_PID gone or /health not 200 (see $OWN_LOG)" alive; }

# e2e_up NAME HTTP_PORT [EXTRA lines...]: an own spazad on a given HTTP port (Kannel's config names
# it before spazad starts); sets OWN_* like own_up, stopped at exit.
e2e_up() {
	local name=$1 http=$2; shift 2
	OWN_CFG=$T_TMP/$name.cfg OWN_LOG=$DIR/spazad-$name.log OWN_PIDF=$T_TMP/$name.pid
	OWN_VTY=$(free_port)
	own_cfg "$OWN_CFG" "$http" "$OWN_VTY" "$@"
	"$SPAZAD" -c "$OWN_CFG" >"$OWN_LOG" 2>&1 &
	OWN_PID=$!
	echo "$OWN_PID" > "$OWN_PIDF"
	OWN_URL=http://127.0.0.1:$http
	at_exit "spazad_down '$OWN_PIDF'"
	wait_for 30 sh -c "curl -sf --noproxy '*' -o /dev/null '$OWN_URL/health' || ! kill -0 $OWN_PID" &&
		kill -0 "$OWN_PID" 2>/dev/null
}

# The main dialogue of the shop, on either front end: dial, browse Drinks, Coke 2L x 2, confirm.
# Sets ORDER. MSISDN as the SMSC writes it (27...), SESSION the its_session_info.
main_dialogue() { # main_dialogue LABEL MSISDN SESSION
	local l=$1 m=$2 s=$3 line
	ORDER=
	sim "ussd-begin $m *120*777# $s"
	expect "$l: *120*777# opens the main menu: ussd_service_op 2, its_session_info $s echoed, service_type USSD" \
		"expect-submit to=$m ussd_service_op=2 its_session_info=$s service_type=USSD text=\"/^Welcome to Spaza\n1. Browse/\"" || return 1
	sim "ussd-continue $m 1 $s"
	expect "$l: 1 browses the categories (ussd_service_op 2)" \
		"expect-submit to=$m ussd_service_op=2 its_session_info=$s text=\"/^Categories\n1. Groceries\n2. Drinks/\"" || return 1
	sim "ussd-continue $m 2 $s"
	# the page keeps room for the invalid-choice line (16 characters), so it holds five drinks; it
	# must arrive whole, in one message
	expect "$l: 2 lists Drinks, page 1, whole in one message (five items and the navigation lines, not split)" \
		"expect-submit to=$m ussd_service_op=2 its_session_info=$s text=\"/^Drinks .1.2.\n1. Coke 2L R27.99\n.*\n5. Rooibos tea 80s R39.99\n98. More\n0. Back$/\"" || return 1
	sim "ussd-continue $m 1 $s"
	expect "$l: 1 shows Coke 2L with its price" \
		"expect-submit to=$m ussd_service_op=2 its_session_info=$s text=\"/^Coke 2L\nPrice: R27.99\n1. Buy/\"" || return 1
	sim "ussd-continue $m 1 $s"
	expect "$l: 1 (Buy) asks for the quantity" \
		"expect-submit to=$m ussd_service_op=2 its_session_info=$s text=\"/^Enter quantity/\"" || return 1
	sim "ussd-continue $m 2 $s"
	expect "$l: 2 asks to confirm 2 x Coke 2L for R55.98" \
		"expect-submit to=$m ussd_service_op=2 its_session_info=$s text=\"/^Order 2 x Coke 2L for R55.98[?]\n1. Confirm/\"" || return 1
	sim "ussd-continue $m 1 $s"
	expect "$l: 1 (Confirm) places the order and ends the dialogue: ussd_service_op 17, its_session_info echoed" \
		"expect-submit to=$m ussd_service_op=17 its_session_info=$s text=\"/^Order #[0-9]+ placed\. Pay via option 3\.$/\"" || return 1
	line=$(grep -E "^<< submit_sm .* to=\+?$m .*ussd_service_op=17 .*text=\"Order #[0-9]+ placed" "$SIM_OUT" | tail -n 1)
	ORDER=$(sed -n 's/.*text="Order #\([0-9]*\) placed.*/\1/p' <<<"$line")
	check_match "$T: $l: the END screen names the new order" '^[0-9]+$' "$ORDER"
	[ -n "$ORDER" ]
}

# ============================================================================================
# 1. The smsbox front: bearerbox + smsbox, every MO to spazad's /kannel/mo
# ============================================================================================
SMSC_PORT=$(free_port)
sim_start "$SMSC_PORT" "$DIR/smsc-smsbox.out" || { fail "$T: spaza-smsc listens: $(cat "$DIR/smsc-smsbox.out")"; exit 0; }
export KANNEL_SMSC_SYSTEM_ID=spaza KANNEL_SMSC_PASSWORD=sim4test
HTTP=$(free_port)
while [ "$HTTP" = "$SMSC_PORT" ]; do HTTP=$(free_port); done
STARTED=
trap 't_cleanup; [ -n "$STARTED" ] || echo "FAIL: $T: kannel_up starts bearerbox and smsbox (see the .err file)"' EXIT
kannel_up "$K1" "$SMSC_PORT" "http://127.0.0.1:$HTTP/kannel/mo"
STARTED=1
check_true "$T: smsbox front: Kannel binds to the SMSC" "not online within 30 s" kannel_wait_smsc 30

spaza_secrets "$T_TMP/secrets"
spaza_secret_set "$T_TMP/secrets" kannel-sendsms-password "$KANNEL_SENDSMS_PASS"
if ! e2e_up smsbox "$HTTP" " kannel sendsms url $KANNEL_SENDSMS_URL username $KANNEL_SENDSMS_USER" \
	" kannel sendsms from 31555" \
	" kannel dlr-url http://127.0.0.1:$HTTP/kannel/dlr" " sms retry min 1 max 2" " sms outbox poll 1 in-flight 8"; then
	fail "$T: own spazad starts behind Kannel's smsbox (see $OWN_LOG)"
	exit 0
fi
pass "$T: own spazad starts with sendsms pointing at the test's smsbox"

P1=$(t_phone 71); M1=27${P1#0}; E1=$(e164 "$P1")
P2=$(t_phone 72); M2=27${P2#0}; E2=$(e164 "$P2")

# ---- the main dialogue: SMPP -> bearerbox -> smsbox -> spazad and back ----
main_dialogue "smsbox" "$M1" 13313
O1=$ORDER
if [ -n "$O1" ]; then
	# the order-placed notification: outbox -> sendsms -> smsbox -> bearerbox -> submit_sm with a receipt
	expect "smsbox: the order-placed SMS goes out through sendsms and Kannel, with a receipt requested (registered_delivery 17: final and intermediate, dlr-mask 31)" \
		"expect-submit-sms to=$M1 from=31555 registered_delivery=17 timeout=30000 text=\"Spaza: thank you! Order #$O1 is placed, total R55.98. Status: awaiting payment. Send STATUS $O1 any time.\""
	ROW=$(q "SELECT id FROM sms_messages WHERE order_id = $O1 AND kind = 'order_placed'")
	sim "dlr last delivered"
	delivered() { [ "$(q "SELECT status || '|' || coalesce(dlr, '') FROM sms_messages WHERE id = ${ROW:-0}")" = "delivered|delivered" ]; }
	if wait_for 30 delivered; then
		pass "$T: smsbox: the SMSC's receipt comes back through Kannel's dlr-url and marks the row delivered"
	else
		fail "$T: smsbox: the receipt marks the row delivered: expected delivered|delivered, got <$(q "SELECT status || '|' || coalesce(dlr, '') || '|' || coalesce(smsc_reply, '') FROM sms_messages WHERE id = ${ROW:-0}")>"
	fi
	check_match "$T: smsbox: the row keeps the SMSC's words from the receipt" 'stat:DELIVRD' \
		"$(q "SELECT smsc_reply FROM sms_messages WHERE id = ${ROW:-0}")"
	check_eq "$T: smsbox: the finished dialogue is on the timeline: channel kannel, completed, with its order" \
		"kannel|completed|$O1" \
		"$(q "SELECT s.channel || '|' || s.outcome || '|' || coalesce(s.order_id::text, '') FROM ussd_sessions s
		     JOIN customers c ON c.id = s.customer_id WHERE c.msisdn = '$E1' ORDER BY s.id DESC LIMIT 1")"

	# ---- the long code jumps to paying that order ----
	sim "ussd-begin $M1 *120*777*$O1# 4660"
	expect "smsbox: the long code *120*777*$O1# opens paying that order (ussd_service_op 2)" \
		"expect-submit to=$M1 ussd_service_op=2 its_session_info=4660 text=\"/^Pay R55.98 for order #$O1 with:\n1. Voucher\n2. Credit/\""
	# the network gives up on it: a vendor abort (33, the default mapping) is answered with nothing
	sim "ussd-continue $M1 x 4660 op=33"
	expect "smsbox: an abort (ussd_service_op 33) ends the dialogue and sends nothing" "expect-none 2000"
	abandoned() { [ "$(q "SELECT count(*) FROM ussd_sessions s JOIN customers c ON c.id = s.customer_id
		WHERE c.msisdn = '$E1' AND s.outcome = 'abandoned'")" = 1 ]; }
	check_true "$T: smsbox: the aborted dialogue is on the timeline as abandoned" "no such row" wait_for 10 abandoned

	# ---- an SMS STATUS round trip ----
	sim "sms $M1 31555 \"STATUS $O1\""
	expect "smsbox: SMS STATUS $O1 is answered with the order's status and total" \
		"expect-submit-sms to=$M1 from=31555 text=\"Order #$O1: awaiting payment. Total R55.98.\""
	check_eq "$T: smsbox: the STATUS SMS and its reply are on the timeline, channel kannel" "status|kannel|1" \
		"$(q "SELECT m.command || '|' || m.channel || '|' || (SELECT count(*) FROM sms_messages r WHERE r.reply_to = m.id)
		     FROM sms_messages m JOIN customers c ON c.id = m.customer_id
		     WHERE c.msisdn = '$E1' AND m.direction = 'in' ORDER BY m.id DESC LIMIT 1")"
fi

# ---- an Afrikaans screen is not GSM-7: UCS-2, data_coding 8 ----
sim "ussd-begin $M2 *120*777# 9728"
expect "smsbox: a second phone dials (its_session_info 0x2600 survives the URL-encoding)" \
	"expect-submit to=$M2 ussd_service_op=2 its_session_info=9728 text=\"/^Welcome to Spaza/\""
sim "ussd-continue $M2 4 9728"
expect "smsbox: 4 offers the languages" "expect-submit to=$M2 ussd_service_op=2 its_session_info=9728 text=\"/^Choose your language/\""
sim "ussd-continue $M2 3 9728"
expect "smsbox: 3 switches to Afrikaans and ends (17)" "expect-submit to=$M2 ussd_service_op=17 its_session_info=9728 text=\"/Afrikaans/\""
sim "ussd-begin $M2 *120*777# 4611"
expect "smsbox: the next dial is in Afrikaans" "expect-submit to=$M2 ussd_service_op=2 its_session_info=4611 text=\"/^Welkom by Spaza/\""
sim "ussd-continue $M2 1 4611"
expect "smsbox: the Afrikaans screen Kategorieë arrives as UCS-2 (data_coding 8), text intact" \
	"expect-submit to=$M2 ussd_service_op=2 its_session_info=4611 data_coding=8 text=\"Kategorieë\n1. Groceries\n2. Drinks\n98. Meer\n0. Terug\""

# ---- STOP, then marketing: nothing for that customer; the control customer (P1) gets it ----
sim "sms $M2 31555 STOP"
expect "smsbox: STOP is confirmed by SMS (in the customer's language)" \
	"expect-submit-sms to=$M2 from=31555 text=\"/^Jy kry nie meer promosies van Spaza nie/\""
check_eq "$T: smsbox: the opt-out is stored with its source" "true|sms:kannel" \
	"$(q "SELECT opt_out || '|' || opt_out_source FROM customers WHERE msisdn = '$E2'")"
MKT="Spaza specials $$: bread R15"
out=$("$SPAZACTL" -c "$OWN_CFG" sms marketing "$MKT" 2>&1)
check_eq "$T: smsbox: spazactl sms marketing queues for the one customer who did not opt out" \
	"marketing SMS queued for 1 customers, suppressed for 1 who opted out" "$out"
expect "smsbox: the marketing SMS reaches the customer who did not opt out, through Kannel" \
	"expect-submit-sms to=$M1 from=31555 timeout=30000 text=\"$MKT\""
expect "smsbox: and nothing is submitted for the customer who sent STOP" "expect-none 3000"
mkt_rows() { q "SELECT string_agg(m.status, '|' ORDER BY c.msisdn = '$E1') FROM sms_messages m
	JOIN customers c ON c.id = m.customer_id WHERE m.kind = 'marketing' AND m.text = '$MKT'"; }
wait_for 10 sh -c "[ \"\$(psql -X -qtA -d $DB -c \"SELECT count(*) FROM sms_messages WHERE kind = 'marketing' AND status = 'sent'\")\" = 1 ]"
check_eq "$T: smsbox: the opted-out customer's marketing row is suppressed, the other sent" "suppressed|sent" "$(mkt_rows)"

# ---- fault: Kannel restarted in the middle of a dialogue, a notification queued meanwhile ----
P3=$(t_phone 73); M3=27${P3#0}
sim "ussd-begin $M3 *120*777# 777"
expect "restart: a dialogue begins" "expect-submit to=$M3 ussd_service_op=2 its_session_info=777 text=\"/^Welcome to Spaza/\""
sim "ussd-continue $M3 1 777"
expect "restart: and goes on (categories)" "expect-submit to=$M3 ussd_service_op=2 its_session_info=777 text=\"/^Categories/\""
BB_PID=$(cat "$VAR/$K1/bearerbox.pid") SB_PID=$(cat "$VAR/$K1/smsbox.pid")
kannel_down "$K1"
if kannel_pid_alive "$BB_PID" || kannel_pid_alive "$SB_PID"; then
	fail "$T: restart: Kannel stops"
else
	pass "$T: restart: Kannel (bearerbox and smsbox) stopped in the middle of the dialogue"
fi
if [ -n "$O1" ]; then
	# (an unpaid order cannot ship: staff cancel it instead, which notifies the same way)
	out=$("$SPAZACTL" -c "$OWN_CFG" order status "$O1" cancelled 2>&1)
	check_eq "$T: restart: an order is cancelled while Kannel is away" "order #$O1: awaiting_payment -> cancelled" "$out"
	SROW=$(q "SELECT id FROM sms_messages WHERE order_id = $O1 AND kind = 'order_status'")
	tried() { [ "$(q "SELECT status || '|' || (attempts >= 1) FROM sms_messages WHERE id = ${SROW:-0}")" = "queued|true" ]; }
	check_true "$T: restart: its notification stays queued while sendsms is unreachable, the attempt counted" \
		"got <$(q "SELECT status || '|' || attempts || '|' || coalesce(last_error, '') FROM sms_messages WHERE id = ${SROW:-0}")>" \
		wait_for 15 tried
fi
check_alive "restart, Kannel away"
kannel_up "$K1" "$SMSC_PORT" "http://127.0.0.1:$HTTP/kannel/mo"
check_true "$T: restart: Kannel is back on the same ports and binds again" "not online within 30 s" kannel_wait_smsc 30
if [ -n "$O1" ]; then
	expect "restart: the notification queued during the outage goes out once Kannel is back" \
		"expect-submit-sms to=$M1 from=31555 timeout=30000 text=\"Spaza: order #$O1 is now cancelled. Total R55.98.\""
	sent() { [ "$(q "SELECT status FROM sms_messages WHERE id = ${SROW:-0}")" = sent ]; }
	check_true "$T: restart: and its row is marked sent" "got <$(q "SELECT status FROM sms_messages WHERE id = ${SROW:-0}")>" \
		wait_for 10 sent
fi
sim "ussd-continue $M3 2 777"
sim "expect-submit to=$M3 its_session_info=777"
n=$SIM_N
if sim_result "$n"; then
	line=$(last_submit_to "$M3")
	if [[ $line == *"ussd_service_op=2 "*'text="Drinks (1/2)'* ]]; then
		pass "$T: restart: the dialogue continues after the restart (Drinks, ussd_service_op 2)"
	elif [[ $line == *"ussd_service_op=17 "* ]]; then
		pass "$T: restart: the dialogue ends cleanly after the restart (ussd_service_op 17): $(oneline "${line#*text=}")"
	else
		fail "$T: restart: the dialogue continues or ends cleanly: got <$(oneline "$line")>"
	fi
else
	fail "$T: restart: the answer after the restart is answered: $(sim_why "$n")"
fi
sim "ussd-begin $M3 *120*777# 778"
expect "restart: spazad serves the next dialogue through the restarted Kannel" \
	"expect-submit to=$M3 ussd_service_op=2 its_session_info=778 text=\"/^Welcome to Spaza/\""
sim "ussd-continue $M3 5 778"
expect "restart: Help is a menu (2)" "expect-submit to=$M3 ussd_service_op=2 its_session_info=778 text=\"/^How can we help/\""
sim "ussd-continue $M3 3 778"
expect "restart: which ends normally (17)" "expect-submit to=$M3 ussd_service_op=17 its_session_info=778 text=\"/^Spaza help/\""
check_alive "restart"

# ---- fault: Kannel's duplicate delivery of an MO (same %I id): smsbox's request, made by curl ----
P4=$(t_phone 74); E4=$(e164 "$P4")
# kmo ID TEXT META [TO]: one MO exactly as smsbox's get-url sends it; prints "STATUS|X-Kannel-Meta-Data|body"
kmo() {
	local h=$T_TMP/kmo.h b
	b=$(curl -sS -m 20 --noproxy '*' -D "$h" -G --data-urlencode "from=$E4" --data-urlencode "to=${4:-31555}" \
		--data-urlencode "text=$2" --data-urlencode "meta=$3" --data-urlencode "id=$1" \
		--data-urlencode "smsc=$KANNEL_SMSC_ID" --data-urlencode "coding=0" --data-urlencode "charset=UTF-8" \
		"$OWN_URL/kannel/mo")
	printf '%s|%s|%s' "$(head -n 1 "$h" | awk '{print $2}')" \
		"$(tr -d '\r' < "$h" | sed -n 's/^X-Kannel-Meta-Data: //Ip')" "$b"
}
D1=$(cat /proc/sys/kernel/random/uuid)
r1=$(kmo "$D1" HELP "?smpp?")
r2=$(kmo "$D1" HELP "?smpp?")
check_match "$T: duplicate: an SMS MO is answered" '^200\|\|Spaza SMS: ' "$r1"
check_eq "$T: duplicate: the same Kannel id delivered again gets the same answer" "$r1" "$r2"
check_eq "$T: duplicate: the MO is stored once, its reply once" "1|1" \
	"$(q "SELECT count(*) || '|' || (SELECT count(*) FROM sms_messages r JOIN sms_messages m ON r.reply_to = m.id
	     WHERE m.mo_id = '$D1') FROM sms_messages WHERE mo_id = '$D1'")"
META='?smpp?ussd_service_op=%01&its_session_info=%12%35&'
ANSWER='?smpp?ussd_service_op=%12&its_session_info=%12%35&'
r=$(kmo "$(cat /proc/sys/kernel/random/uuid)" '*120*777#' "$META" '*120*777#')
check_match "$T: duplicate: a USSD begin by curl gets the main menu, its_session_info echoed" \
	'^200\|\?smpp\?ussd_service_op=%02&its_session_info=%12%35&\|Welcome to Spaza' "$r"
D2=$(cat /proc/sys/kernel/random/uuid)
r1=$(kmo "$D2" 1 "$ANSWER" '*120*777#')
r2=$(kmo "$D2" 1 "$ANSWER" '*120*777#')
check_match "$T: duplicate: the answer 1 gets the categories" '^200\|[^|]*\|Categories' "$r1"
check_eq "$T: duplicate: the same answer delivered again (same id) is answered with the same screen, not taken twice" "$r1" "$r2"
r=$(kmo "$(cat /proc/sys/kernel/random/uuid)" 1 "$ANSWER" '*120*777#')
check_match "$T: duplicate: the next answer 1 (a new id) goes one step on (Groceries), not two" '^200\|[^|]*\|Groceries \(1/' "$r"
check_alive "duplicate MO"

# ---- fault: malformed meta-data, oversized text, unknown ussd_service_op: logged, answered or dropped ----
bad_meta() { # bad_meta WHAT META
	local r
	r=$(kmo "$(cat /proc/sys/kernel/random/uuid)" '*120*777#' "$2" '*120*777#')
	check_match "$T: malformed: $1 is refused (400, Kannel sends nothing)" '^400\|\|' "$r"
}
n0=$(grep -c 'MO dropped: malformed meta-data' "$OWN_LOG")
bad_meta "meta-data with a broken %-escape" '?smpp?ussd_service_op=%Z1&its_session_info=%12%35&'
bad_meta "meta-data of another SMSC type" '?http?ussd_service_op=%01'
bad_meta "a two-octet ussd_service_op" '?smpp?ussd_service_op=%01%01&its_session_info=%12%35&'
bad_meta "a three-octet its_session_info" '?smpp?ussd_service_op=%01&its_session_info=%12%35%01&'
bad_meta "a pair without =" '?smpp?ussd_service_op'
check_eq "$T: malformed: each is logged" 5 "$(( $(grep -c 'MO dropped: malformed meta-data' "$OWN_LOG") - n0 ))"
r=$(kmo "$(cat /proc/sys/kernel/random/uuid)" '*120*777#' '?smpp?ussd_service_op=%01&' '*120*777#')
check_match "$T: malformed: USSD without its_session_info is refused" '^400\|\|USSD without its_session_info' "$r"
check_true "$T: malformed: and logged" "no log line" grep -q 'MO dropped: USSD without its_session_info' "$OWN_LOG"
check_alive "malformed meta-data"

LONG=$(printf 'x%.0s' $(seq 700))
r=$(kmo "$(cat /proc/sys/kernel/random/uuid)" "$LONG" "?smpp?")
check_match "$T: oversized: a 700-character MO is refused (400)" '^400\|\|text too long' "$r"
check_true "$T: oversized: and logged" "no log line" grep -q 'MO dropped: text too long' "$OWN_LOG"
P5=$(t_phone 75); M5=27${P5#0}
sim "sms $M5 31555 $(printf 'y%.0s' $(seq 250))"
expect "oversized: a 250-character SMS through the SMSC (longer than one SMS) opens a care ticket, named in the answer" \
	"expect-submit-sms to=$M5 text=\"/^Spaza: thank you, we got your message. Ticket #[0-9]+ is open/\""
sim "ussd-begin $M5 *120*777# 501"
expect "oversized: a USSD dialogue begins" "expect-submit to=$M5 ussd_service_op=2 its_session_info=501 text=\"/^Welcome to Spaza/\""
sim "ussd-continue $M5 $(printf '9%.0s' $(seq 200)) 501"
sim "expect-submit to=$M5 its_session_info=501"
n=$SIM_N
if sim_result "$n"; then
	line=$(last_submit_to "$M5")
	check_match "$T: oversized: a 200-digit USSD answer is answered (invalid choice: the menu again)" \
		'ussd_service_op=2 .*text="Invalid choice\.\\nWelcome to Spaza' "$line"
else
	fail "$T: oversized: a 200-digit USSD answer is answered: $(sim_why "$n")"
fi
check_alive "oversized text"

P6=$(t_phone 76); M6=27${P6#0}
sim "ussd-begin $M6 *120*777# 601 op=99"
expect "unknown op: a begin with ussd_service_op 99 is dropped: nothing submitted" "expect-none 2000"
check_true "$T: unknown op: and logged" "no log line" grep -q 'MO dropped: unknown ussd_service_op 99' "$OWN_LOG"
sim "ussd-begin $M6 *120*777# 602"
expect "unknown op: the phone's next dialogue works" "expect-submit to=$M6 ussd_service_op=2 its_session_info=602 text=\"/^Welcome to Spaza/\""
sim "ussd-continue $M6 1 602 op=200"
expect "unknown op: a vendor ussd_service_op (200) mid-dialogue is dropped" "expect-none 2000"
check_true "$T: unknown op: logged as well" "no log line" grep -q 'MO dropped: unknown ussd_service_op 200' "$OWN_LOG"
sim "ussd-continue $M6 1 602"
expect "unknown op: the dialogue is unharmed: the next answer 1 gets the categories" \
	"expect-submit to=$M6 ussd_service_op=2 its_session_info=602 text=\"/^Categories/\""
sim "ussd-continue $M6 1 602 op=3"
expect "unknown op: a USSN value (3) is dropped too" "expect-none 2000"
check_alive "unknown ussd_service_op"

kannel_down "$K1"
sim_stop
own_down "$T (smsbox)"
clean_logs smsbox "$K1" "$DIR/smsc-smsbox.out"

# ============================================================================================
# 2. The native box front: bearerbox only, spazad connects as a box
# ============================================================================================
SMSC_PORT=$(free_port)
sim_start "$SMSC_PORT" "$DIR/smsc-box.out" || { fail "$T: box: spaza-smsc listens: $(cat "$DIR/smsc-box.out")"; exit 0; }
kannel_up "$K2" "$SMSC_PORT"
check_true "$T: box: bearerbox binds to the SMSC" "not online within 30 s" kannel_wait_smsc 30
# the box daemon's outbox sends whatever is queued in this database: the smsbox part left nothing
check_eq "$T: every SMS the smsbox part queued left the outbox" 0 "$(q "SELECT count(*) FROM sms_messages WHERE status = 'queued'")"
# the link routes only messages naming it (allowed-smsc-id): pushes name it with sendsms smsc
if ! e2e_up box "$(free_port)" " kannel box connect 127.0.0.1 $KANNEL_SMSBOX_PORT" " kannel sendsms from 31555" \
	" kannel sendsms smsc $KANNEL_SMSC_ID" \
	" sms retry min 1 max 2" " sms outbox poll 1 in-flight 8"; then
	fail "$T: box: own spazad starts as a box (see $OWN_LOG)"
	exit 0
fi
box_online() { kannel_status | grep -q 'smsbox:(none), IP 127.0.0.1.*on-line'; }
check_true "$T: box: spazad is on-line as bearerbox's box" "not listed within 20 s (see $OWN_LOG)" wait_for 20 box_online

P7=$(t_phone 77); M7=27${P7#0}; E7=$(e164 "$P7")
main_dialogue "box" "$M7" 13313
O7=$ORDER
if [ -n "$O7" ]; then
	check_eq "$T: box: the finished dialogue is on the timeline: channel box, completed, with its order" \
		"box|completed|$O7" \
		"$(q "SELECT s.channel || '|' || s.outcome || '|' || coalesce(s.order_id::text, '') FROM ussd_sessions s
		     JOIN customers c ON c.id = s.customer_id WHERE c.msisdn = '$E7' ORDER BY s.id DESC LIMIT 1")"
	# no smsbox, so no sendsms: the order-placed SMS goes to bearerbox on the box connection
	expect "box: the order-placed SMS goes out over the box connection (an MT push from 31555)" \
		"expect-submit-sms to=$M7 from=31555 timeout=30000 text=\"Spaza: thank you! Order #$O7 is placed, total R55.98. Status: awaiting payment. Send STATUS $O7 any time.\""
	boxsent() { [ "$(q "SELECT status FROM sms_messages WHERE order_id = $O7 AND kind = 'order_placed'")" = sent ]; }
	check_true "$T: box: bearerbox's ack marks its row sent" \
		"got <$(q "SELECT status || '|' || coalesce(last_error, '') FROM sms_messages WHERE order_id = $O7 AND kind = 'order_placed'")>" \
		wait_for 10 boxsent
	sim "ussd-begin $M7 *120*777*$O7# 4660"
	expect "box: the long code *120*777*$O7# opens paying that order" \
		"expect-submit to=$M7 ussd_service_op=2 its_session_info=4660 text=\"/^Pay R55.98 for order #$O7 with:\n1. Voucher/\""
	sim "ussd-continue $M7 2 4660"
	expect "box: and goes on from there (Credit)" "expect-submit to=$M7 its_session_info=4660 text=/./"
fi
check_alive "box"
kannel_down "$K2"
sim_stop
own_down "$T (box)"
clean_logs box "$K2" "$DIR/smsc-box.out"
exit 0
