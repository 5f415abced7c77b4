#!/usr/bin/env bash
# The demo as a newcomer meets it, end to end through the operator's side:
#   ./scripts/run (no terminal) starts PostgreSQL, tools/spaza-smsc, Kannel (bearerbox + smsbox) and
#   spazad, and prints the gateway's and the SMSC simulator's URLs; the phone on the SMSC simulator
#   (spaza-phone --smsc, typed into as at a terminal) dials *120*777# through SMPP -> Kannel ->
#   spazad, orders two Coke 2L, and the order-placed SMS arrives in the number's inbox, with Kannel's
#   delivery receipt marking it delivered; an SMS keyword (STATUS) is answered the same way; curl on
#   the control interface works as doc/kannel.md shows; ./scripts/run again keeps everything as it
#   is; ./scripts/run stop leaves nothing running.
# Its own state (SPAZA_VAR) and free ports, so it never meets your demo or another test; the
# binaries as scripts/test built them (SPAZA_RUN_BUILD=no). One PASS:/FAIL: line per assertion.
source "$(dirname "$0")/lib.sh"
source "$SPAZA_TOP/scripts/kannel.sh"
T=demo
PHONE=$SPAZA_TOP/tools/spaza-phone

for bin in "$KANNEL_BIN/bearerbox" "$KANNEL_BIN/smsbox"; do
	[ -x "$bin" ] || { echo "SKIP: $T: $bin not installed (Debian package kannel)"; exit 0; }
done

D=$VAR/test/$T
rm -rf "$D"
mkdir -p "$D"
run() { SPAZA_VAR=$D SPAZA_RUN_BUILD=no "$SPAZA_TOP/scripts/run" "$@" </dev/null; }
export SPAZA_HTTP_PORT SPAZA_VTY_PORT
SPAZA_HTTP_PORT=$(free_port)
SPAZA_VTY_PORT=$(free_port)
at_exit "run stop >/dev/null 2>&1"

# ---- ./scripts/run without a terminal: prints the URLs once everything answers, and returns ----
out=$(run 2>"$D/run.err")
rc=$?
check_eq "$T: ./scripts/run without a terminal exits 0" 0 "$rc"
[ "$rc" = 0 ] || { fail "$T: ./scripts/run: $(oneline "$(tail -n 5 "$D/run.err")")"; exit 0; }
URL=$(sed -n 1p <<<"$out") CONTROL=$(sed -n 2p <<<"$out")
check_eq "$T: it prints the gateway's /ussd/at URL first" "http://127.0.0.1:$SPAZA_HTTP_PORT/ussd/at" "$URL"
check_match "$T: and then the SMSC simulator's control URL" '^http://127\.0\.0\.1:[0-9]+$' "$CONTROL"
check_has "$T: the banner names the whole path" "phone -> spaza-smsc (SMPP) -> Kannel bearerbox -> smsbox -> spazad /kannel/mo" \
	"$(cat "$D/run.err")"
check_eq "$T: an ESME (Kannel) is bound to the SMSC simulator" "bound" "$(curl -s --noproxy '*' "$CONTROL/status")"
pids() { cat "$D/spazad.pid" "$D/kannel/bearerbox.pid" "$D/kannel/smsbox.pid" "$D/smsc/pid" 2>/dev/null | tr '\n' ' '; }
PIDS=$(pids)
check_match "$T: spazad, bearerbox, smsbox and spaza-smsc run" '^([0-9]+ ){4}$' "$PIDS"

# ---- the phone, typed into as at a terminal: dial, browse, order ----
# Enter dials *120*777#; 1 Browse, 2 Drinks, 1 Coke 2L, 1 Buy, 2 (quantity), 1 Confirm; then q.
phone_out=$(printf '\n1\n2\n1\n1\n2\n1\nq\n' | "$PHONE" --smsc "$CONTROL" -t 30 2>&1)
check_has "$T: the phone introduces itself on the simulated network" \
	"Spaza phone 27821234567 on the simulated operator network (SMSC simulator $CONTROL)" "$phone_out"
check_has "$T: *120*777# through SMPP and Kannel opens the main menu" "| Welcome to Spaza" "$phone_out"
check_has "$T: the Drinks list comes back" "| 1. Coke 2L R27.99" "$phone_out"
check_has "$T: the order is confirmed on screen" "| Order 2 x Coke 2L for R55.98?" "$phone_out"
ORDER=$(sed -n 's/.*| Order #\([0-9]*\) placed\..*/\1/p' <<<"$phone_out" | head -n 1)
check_match "$T: Confirm places the order and ends the dialogue (END screen, order number)" '^[0-9]+$' "$ORDER"
check_has "$T: the phone says the session ended" "Session ended." "$phone_out"

# ---- the order-placed SMS: outbox -> sendsms -> smsbox -> bearerbox -> submit_sm -> the inbox ----
SMS="Spaza: thank you! Order #$ORDER is placed, total R55.98. Status: awaiting payment. Send STATUS $ORDER any time."
inbox=$(curl -s --noproxy '*' -m 40 "$CONTROL/inbox?msisdn=27821234567&wait=30000")
check_match "$T: GET /inbox: the order-placed SMS reached the number (id, time, from 31555, text)" \
	"^[0-9]+	[0-9-]+ [0-9:]+	31555	$(sed 's/[.?*+()#]/\\&/g' <<<"$SMS")\$" "$inbox"
psql_demo() { PGPORT=$(cat "$(pg_dir_of demo)/port") psql -X -qtA -h 127.0.0.1 -U postgres -d spaza -c "$1"; }
pg_dir_of() { if [ -L "$D/$1.link" ]; then readlink "$D/$1.link"; else echo "$D/$1"; fi; }
delivered() { [ "$(psql_demo "SELECT status FROM sms_messages WHERE order_id = ${ORDER:-0} AND kind = 'order_placed'")" = delivered ]; }
check_true "$T: the SMSC's receipt comes back through Kannel to /kannel/dlr: the row is delivered" \
	"got <$(psql_demo "SELECT status FROM sms_messages WHERE order_id = ${ORDER:-0} AND kind = 'order_placed'")>" \
	wait_for 20 delivered

# ---- the phone again: its inbox, and an SMS keyword answered by SMS ----
phone_out=$(printf 'inbox\nsms STATUS %s\nq\n' "$ORDER" | "$PHONE" --smsc "$CONTROL" -t 30 2>&1)
check_has "$T: the phone's inbox shows the SMS from the short code" "+- SMS from 31555, " "$phone_out"
check_has "$T: with its text on the phone's screen" "| Spaza: thank you! Order #$ORDER" "$phone_out"
check_has "$T: \"sms STATUS $ORDER\" goes to the short code" "SMS to 31555 sent: STATUS $ORDER" "$phone_out"
check_match "$T: and its answer arrives as an SMS" "SMS from 31555, [0-9:]+ -+\+"$'\n'"  \| Order #$ORDER: awaiting payment" "$phone_out"

# ---- the control interface by hand, as doc/kannel.md shows it ----
r=$(curl -s --noproxy '*' -m 30 -d 'msisdn=27820000042&session=4242&begin=1&text=*120*777%23' "$CONTROL/ussd")
check_match "$T: curl POST /ussd begin=1 gets the main menu as CON" '^CON Welcome to Spaza' "$r"
r=$(curl -s --noproxy '*' -m 30 -d 'msisdn=27820000042&session=4242&text=5' "$CONTROL/ussd")
check_match "$T: curl POST /ussd with the answer 5 gets the help menu as CON" '^CON How can we help' "$r"
r=$(curl -s --noproxy '*' -m 30 -d 'msisdn=27820000042&session=4242&text=3' "$CONTROL/ussd")
check_match "$T: and 3 (Call us) the help screen as END" '^END Spaza help' "$r"
r=$(curl -s --noproxy '*' -w ' %{http_code}' -d 'msisdn=27820000042&to=31555&text=HELP' "$CONTROL/sms")
check_eq "$T: curl POST /sms sends an SMS" "sent
 200" "$r"
r=$(curl -s --noproxy '*' -m 40 "$CONTROL/inbox?msisdn=27820000042&wait=30000")
check_match "$T: and its answer is in that number's inbox" '31555	Spaza SMS: ' "$r"
r=$(curl -s --noproxy '*' -w ' %{http_code}' -d 'msisdn=27820000042&text=1' "$CONTROL/ussd")
check_match "$T: POST /ussd without session= is refused (400)" ' 400$' "$r"

# ---- ./scripts/run again: nothing restarts ----
out2=$(run 2>"$D/run2.err")
check_eq "$T: ./scripts/run again prints the same URLs" "$out" "$out2"
check_eq "$T: and keeps the same processes (spazad, bearerbox, smsbox, spaza-smsc)" "$PIDS" "$(pids)"
check_has "$T: saying spazad is already running" "spazad already running" "$(cat "$D/run2.err")"

# ---- ./scripts/run stop: nothing left ----
PG_PID=$(head -n 1 "$(pg_dir_of demo)/data/postmaster.pid" 2>/dev/null)
run stop 2>"$D/stop.err"
check_eq "$T: ./scripts/run stop says stopped" "stopped" "$(tail -n 1 "$D/stop.err")"
left=""
for p in $PIDS $PG_PID; do kannel_pid_alive "$p" && left="$left $p"; done	# (a zombie is gone)
check_eq "$T: and nothing it started runs any more (spazad, Kannel, spaza-smsc, PostgreSQL)" "" "$left"
for f in "$D/spazad.log" "$D/smsc/smsc.log"; do
	check_true "$T: $(basename "$f") free of sanitizer reports" "see $f" \
		sh -c "! grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:|talloc: .* at exit' '$f'"
done
exit 0
