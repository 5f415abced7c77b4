# Customer care (doc/staff-guide.md, "Customer care"; doc/sms.md): tickets opened by SMS (free
# text, COMPLAIN), by USSD (Help, Report a problem) and by staff (spazactl care open); their
# states (open -> waiting on a staff reply -> open on the customer's answer -> resolved ->
# closed); ratings (RATE, a bare digit after the delivered SMS, USSD); staff notes and a lifted
# PIN lockout on the timeline; the clocks' breaches counted and listed; every staff action in
# the audit log; a staff reply reaching the phone's inbox through Kannel and the SMSC simulator.
source "$(dirname "$0")/lib.sh"
T=care

P=$(t_phone 40)
E=$(e164 "$P")
P2=$(t_phone 40)
ctl() { "$SPAZACTL" -c "$SPAZA_CFG" "$@"; }
# mo PHONE TEXT ID: one SMS as smsbox's get-url sends it; prints the reply
mo() {
	curl -sS --max-time 20 --noproxy '*' -G --data-urlencode "from=$1" --data-urlencode "to=31555" \
		--data-urlencode "text=$2" --data-urlencode "meta=" --data-urlencode "id=$3" \
		--data-urlencode "smsc=it-smsc" "$SPAZA_URL/kannel/mo"
}
mid() { echo "it-care-$$-$RANDOM$RANDOM"; }
ticket_of() { sed -n 's/.*[Tt]icket #\([0-9]*\).*/\1/p' <<<"$1" | head -n 1; }
state_of() { psql_val "SELECT state FROM care_tickets WHERE id = ${1:-0}"; }

# ---- 1. SMS: free text opens a ticket, more free text joins it, a duplicate delivery opens nothing

ID1=$(mid)
r=$(mo "$P" "my bread never came" "$ID1")
check_match "$T: free text by SMS opens a ticket, named in the answer" \
	'^Spaza: thank you, we got your message\. Ticket #[0-9]+ is open and a person will answer you by SMS\.$' "$r"
T1=$(ticket_of "$r")
check_eq "$T: the ticket is the customer's, free text, by SMS, open, with the message" \
	"$E|free_text|sms|open|my bread never came" \
	"$(psql_val "SELECT c.msisdn || '|' || t.kind || '|' || t.channel || '|' || t.state || '|' || m.text
		FROM care_tickets t JOIN customers c ON c.id = t.customer_id JOIN care_messages m ON m.ticket_id = t.id
		WHERE t.id = ${T1:-0} AND m.step = 'opened'")"
r2=$(mo "$P" "my bread never came" "$ID1")
check_eq "$T: the same message delivered again gets the same answer" "$r" "$r2"
check_eq "$T: ... and opens no second ticket nor adds a message" "1|1" \
	"$(psql_val "SELECT (SELECT count(*) FROM care_tickets t JOIN customers c ON c.id = t.customer_id WHERE c.msisdn = '$E')
		|| '|' || (SELECT count(*) FROM care_messages WHERE ticket_id = ${T1:-0})")"
r=$(mo "$P" "it is 2 days now" "$(mid)")
check_eq "$T: more free text joins the open ticket" \
	"Spaza: we added your message to ticket #$T1. A person will answer you by SMS." "$r"
r=$(mo "$P" "   " "$(mid)")
check_eq "$T: a blank text opens nothing: the short help" \
	"Sorry, we did not understand. Send HELP for the list of commands." "$r"
r=$(mo "$P" "STATUS 1" "$(mid)")
check_match "$T: keywords still work (STATUS)" '^We cannot find order #1 for your number' "$r"

# ---- 2. COMPLAIN and RATE on orders

r=$(ussd "$(t_sid)" "$P" "1*2*1*1*3*1")
ORDER=$(sed -n 's/^END Order #\([0-9]*\) placed.*/\1/p' <<<"$r")
check_match "$T: an order to complain about" '^[0-9]+$' "$ORDER"
r=$(mo "$P" "complain $ORDER the coke was warm" "$(mid)")
check_match "$T: COMPLAIN <order> <text> opens a ticket on that order" \
	"^Spaza: ticket #[0-9]+ is open for order #$ORDER\\. A person will answer you by SMS\\.\$" "$r"
T2=$(ticket_of "$r")
check_eq "$T: ... of kind other, with the customer's words" "$ORDER|other|the coke was warm" \
	"$(psql_val "SELECT t.order_id || '|' || t.kind || '|' || m.text FROM care_tickets t
		JOIN care_messages m ON m.ticket_id = t.id WHERE t.id = ${T2:-0}")"
r=$(mo "$P2" "KHALAZA $ORDER ngicela usizo" "$(mid)")
check_eq "$T: COMPLAIN on another customer's order is refused" \
	"We cannot find order #$ORDER for your number. Send ORDERS to see your orders." "$r"
r=$(mo "$P" "complain $ORDER" "$(mid)")
check_eq "$T: COMPLAIN without words explains itself" \
	"Send COMPLAIN, your order number and what went wrong, e.g. COMPLAIN 1001 the bread was stale." "$r"

r=$(mo "$P" "RATE $ORDER 5" "$(mid)")
check_eq "$T: RATE of an order not delivered says so" \
	"Order #$ORDER is awaiting payment. You can rate it once it is delivered." "$r"
r=$(mo "$P" "RATE $ORDER 9" "$(mid)")
check_eq "$T: RATE with stars out of 1-5 explains itself" \
	"Send RATE, your order number and 1 to 5 (5 is best), e.g. RATE 1001 5 fast delivery." "$r"
ctl credit set-limit "$P" 1000 >/dev/null
ussd "$(t_sid)" "$P" "3*$ORDER*2*1" >/dev/null
ctl order status "$ORDER" shipped >/dev/null
out=$(ctl order status "$ORDER" delivered 2>&1)
check_eq "$T: the order is paid, shipped and delivered" "order #$ORDER: shipped -> delivered" "$out"
check_eq "$T: the delivered notification waits in the outbox (it asks for a rating)" 1 \
	"$(psql_val "SELECT count(*) FROM sms_messages WHERE order_id = $ORDER AND kind = 'order_status' AND order_status = 'delivered'")"
r=$(mo "$P" "4" "$(mid)")
check_eq "$T: a bare digit after the delivered SMS rates that order" \
	"Spaza: thank you! You rated order #$ORDER 4 out of 5." "$r"
r=$(mo "$P" "rate #$ORDER 2 the driver was rude" "$(mid)")
check_eq "$T: RATE <order> <1-5> <comment> rates it again: the new rating replaces the old" \
	"Spaza: thank you! You rated order #$ORDER 2 out of 5." "$r"
check_eq "$T: one rating per order, the latest stars and comment, changed once" "2|the driver was rude|2|sms" \
	"$(psql_val "SELECT stars || '|' || comment || '|' || times || '|' || channel FROM ratings WHERE order_id = $ORDER")"
r=$(mo "$P2" "5" "$(mid)")
check_match "$T: a bare digit from a customer with no delivered SMS is free text: a ticket" \
	'^Spaza: thank you, we got your message\. Ticket #[0-9]+ is open' "$r"
r=$(mo "$P2" "RATE $ORDER 5" "$(mid)")
check_eq "$T: RATE of another customer's order is refused" \
	"We cannot find order #$ORDER for your number. Send ORDERS to see your orders." "$r"

# ---- 3. USSD: Help -> Report a problem; Help -> Rate an order

r=$(ussd "$(t_sid)" "$P" "5*1*$ORDER*3")
check_match "$T: USSD Report a problem, charged twice: the ticket on screen" \
	"^END Thank you\\. Ticket #[0-9]+ is open for order #$ORDER\\. A person will answer you by SMS\\.\$" "$r"
T3=$(ticket_of "$r")
check_eq "$T: ... a charged_twice ticket by USSD on that order" "charged_twice|ussd|$ORDER|open" \
	"$(psql_val "SELECT kind || '|' || channel || '|' || order_id || '|' || state FROM care_tickets WHERE id = ${T3:-0}")"
check_eq "$T: ... and confirmed by SMS" 1 \
	"$(psql_val "SELECT count(*) FROM sms_messages m JOIN customers c ON c.id = m.customer_id WHERE c.msisdn = '$E'
		AND m.direction = 'out' AND m.text = 'Spaza: ticket #${T3:-0} is open for order #$ORDER. A person will answer you by SMS.'")"
r=$(ussd "$(t_sid)" "$P" "5*2*$ORDER*5")
check_eq "$T: USSD Rate an order: 5 on a delivered order" \
	"END Thank you! You gave order #$ORDER 5 out of 5. We will SMS you a confirmation." "$r"
check_eq "$T: ... stored as the order's rating, by USSD" "5|ussd" \
	"$(psql_val "SELECT stars || '|' || channel FROM ratings WHERE order_id = $ORDER")"
r=$(ussd "$(t_sid)" "$P" "5*2*$ORDER*7")
check_match "$T: USSD rating refuses 7" '^CON Type a number from 1 to 5\.' "$r"

# ---- 4. staff: open, list, show, reply (the ticket waits), the customer answers (open again),
# resolve, close; every step audited

out=$(ctl care open "$P" --order "$ORDER" damaged "customer called: the box was crushed" 2>&1)
check_match "$T: care open by staff" "^ticket #[0-9]+ opened for \\$E\$" "$out"
T4=$(sed -n 's/^ticket #\([0-9]*\) .*/\1/p' <<<"$out")
check_eq "$T: ... a staff ticket of kind damaged" "damaged|staff|open" \
	"$(psql_val "SELECT kind || '|' || channel || '|' || state FROM care_tickets WHERE id = ${T4:-0}")"
out=$(ctl care open "$P" --order "$ORDER" broken "x" 2>&1); rc=$?
check_eq "$T: care open refuses an unknown kind (exit 2)" 2 "$rc"
check_has "$T: ... naming the kinds" "not_delivered, wrong_item, damaged" "$out"
out=$(ctl care open "$P2" --order "$ORDER" damaged "x" 2>&1); rc=$?
check_eq "$T: care open refuses another customer's order" "1|spazactl: order $ORDER is not $(e164 "$P2")'s" "$rc|$out"

out=$(ctl care list --open)
check_match "$T: care list --open lists the SMS ticket with its customer, kind and state" \
	"#$T1 +[0-9-]+ [0-9:]+ +\\$E +free_text +- +sms +open +ok +2" "$out"
out=$(ctl care reply "$T1" "Sorry! A new loaf is on its way today." 2>&1)
check_match "$T: care reply queues the SMS and says the ticket waits" \
	"^reply queued as SMS #[0-9]+; ticket #$T1 waits on the customer\$" "$out"
SMSID=$(sed -n 's/^reply queued as SMS #\([0-9]*\);.*/\1/p' <<<"$out")
check_eq "$T: the reply is an SMS to the customer in the outbox" "$E|out|reply|Sorry! A new loaf is on its way today." \
	"$(psql_val "SELECT c.msisdn || '|' || m.direction || '|' || m.kind || '|' || m.text FROM sms_messages m
		JOIN customers c ON c.id = m.customer_id WHERE m.id = ${SMSID:-0}")"
check_eq "$T: the ticket waits on the customer, answered" "waiting|true" \
	"$(psql_val "SELECT state || '|' || (first_response_at IS NOT NULL) FROM care_tickets WHERE id = ${T1:-0}")"
r=$(mo "$P" "thank you it came" "$(mid)")
check_eq "$T: the customer's answer joins the ticket" \
	"Spaza: we added your message to ticket #$T1. A person will answer you by SMS." "$r"
check_eq "$T: ... which is open again" open "$(state_of "$T1")"
out=$(ctl care show "$T1")
check_match "$T: care show has the whole conversation in order" \
	"in +opened +sms +\"my bread never came\".*in +message +sms +\"it is 2 days now\".*out +reply +[^ ]+ +\"Sorry! A new loaf is on its way today\\.\" +\\(SMS [a-z]+\\).*in +message +sms +\"thank you it came\"" \
	"$(tr '\n' ' ' <<<"$out")"
out=$(ctl care resolve "$T1" new loaf delivered 2>&1)
check_eq "$T: care resolve" "ticket #$T1 resolved (was open)" "$out"
out=$(ctl care resolve "$T1" 2>&1); rc=$?
check_eq "$T: resolving twice is refused" "1|spazactl: ticket #$T1 is already resolved" "$rc|$out"
out=$(ctl care close "$T1" 2>&1)
check_eq "$T: care close" "ticket #$T1 closed (was resolved)" "$out"
out=$(ctl care reply "$T1" "hello" 2>&1); rc=$?
check_eq "$T: a closed ticket takes no reply" "1|spazactl: the ticket is closed: no reply" "$rc|$out"
out=$(ctl care show 999999999 2>&1); rc=$?
check_eq "$T: care show of no such ticket" "1|spazactl: no ticket 999999999" "$rc|$out"
out=$(ctl care show abc 2>&1); rc=$?
check_eq "$T: care show of something that is no ticket number exits 2" 2 "$rc"
r=$(mo "$P" "one more thing" "$(mid)")
T5=$(ticket_of "$r")
check_true "$T: free text after the ticket closed goes on another ticket" "got <$r>" test -n "$T5" -a "${T5:-0}" != "$T1"
check_eq "$T: every staff action is in the audit log, by ticket" \
	"care open|ticket $T4|ok care reply|ticket $T1|ok care resolve|ticket $T1|ok care resolve|ticket $T1|failed care close|ticket $T1|ok care reply|ticket $T1|failed" \
	"$(psql_val "SELECT string_agg(split_part(action, ' ', 1) || ' ' || split_part(action, ' ', 2) || '|' || subject || '|' || result, ' ' ORDER BY id)
		FROM audit_log WHERE action LIKE 'care %' AND subject IN ('ticket $T1', 'ticket $T4')")"

# ---- 5. the clocks: a ticket older than care first-response, unanswered, is counted once

vty_open "$SPAZA_VTY_PORT" || { fail "$T: the VTY on $SPAZA_VTY_PORT"; exit 0; }
FRT="Care tickets nobody answered within care first-response"
RES="Care tickets not resolved within care resolution"
st=$(vty "show stats")
f0=$(stat_count "$FRT" "$st"); r0=$(stat_count "$RES" "$st")
check_match "$T: show stats has the clocks' counters" '^[0-9]+\|[0-9]+$' "$f0|$r0"
psql_val "UPDATE care_tickets SET opened_at = now() - interval '3 hours' WHERE id = ${T2:-0}" >/dev/null
psql_val "UPDATE care_tickets SET opened_at = now() - interval '3 days' WHERE id = ${T3:-0}" >/dev/null
counted() { [ "$(stat_count "$FRT" "$(vty "show stats")")" -ge $(( ${f0:-0} + 2 )) ]; }
wait_for 20 counted
st=$(vty "show stats")
check_eq "$T: both unanswered tickets past 60 minutes breach the first-response clock, counted once each" \
	"$(( ${f0:-0} + 2 ))" "$(stat_count "$FRT" "$st")"
check_eq "$T: the one past 48 hours breaches the resolution clock" "$(( ${r0:-0} + 1 ))" "$(stat_count "$RES" "$st")"
sleep 6	# another sweep: nothing is counted twice
st=$(vty "show stats")
check_eq "$T: a later sweep counts no breach again" "$(( ${f0:-0} + 2 ))|$(( ${r0:-0} + 1 ))" \
	"$(stat_count "$FRT" "$st")|$(stat_count "$RES" "$st")"
vty_close
out=$(ctl care list --breached)
check_match "$T: care list --breached shows both, with the clocks they broke" \
	"#$T3 .* BREACHED first\\+res .*#$T2 .* BREACHED first " "$(tr '\n' ' ' <<<"$out")"
check_lacks "$T: ... and not a ticket inside its clocks" "#$T4 " "$out"
check_eq "$T: the clocks are in the running config (write-back)" \
	" care first-response 60| care resolution 48| care rating-window 72" \
	"$(ctl vty enable 'show running-config' | grep -E '^ care ' | paste -sd'|')"

# ---- 6. notes and the PIN lockout: visible, liftable, on the timeline

out=$(ctl customer note "$P" "prefers SMS in the evening" 2>&1)
check_match "$T: customer note" "^note #[0-9]+ added to \\$E\$" "$out"
CID=$(psql_val "SELECT id FROM customers WHERE msisdn = '$E'")
psql_val "INSERT INTO voucher_failures (customer_id, idem_key, request_hash, outcome)
	SELECT $CID, 'care-it-$$-' || g, sha256(g::text::bytea), 'invalid' FROM generate_series(1, 5) g" >/dev/null
out=$(ctl customer show "$P")
check_match "$T: customer show says the customer is locked out" \
	$'\nPIN lock  LOCKED until [0-9-]+ [0-9:]+ \\(5 wrong voucher PINs in 24 h; spazactl customer unlock lifts it\\)\n' "$out"
r=$(ussd "$(t_sid)" "$P" "1*2*1*1*1*1")
O2=$(sed -n 's/^END Order #\([0-9]*\) placed.*/\1/p' <<<"$r")
r=$(ussd "$(t_sid)" "$P" "3*$O2*1*$(luhn_fix 424242424242424)")
check_eq "$T: a locked-out customer's voucher payment is refused" \
	"END Too many wrong PINs. Voucher payments are locked for 24 hours." "$r"
out=$(ctl customer unlock "$P" 2>&1)
check_eq "$T: customer unlock lifts it" "$E unlocked: 5 wrong voucher PINs cleared" "$out"
out=$(ctl customer show "$P")
check_has "$T: customer show: no lockout any more" "PIN lock  none (0 wrong voucher PINs in 24 h)" "$out"
r=$(ussd "$(t_sid)" "$P" "3*$O2*1*$(luhn_fix 424242424242424)")
check_eq "$T: the voucher path is open again (a wrong PIN is just invalid now)" \
	"CON Invalid voucher PIN."$'\n'"Enter 16-digit voucher PIN"$'\n'"0. Back" "$r"
out=$(ctl customer unlock "$P" 2>&1)
check_match "$T: unlock with nothing to lift says so" "nothing to lift|unlocked|was not locked" "$out"
check_eq "$T: note and unlock are audited" "customer note|ok customer unlock|ok" \
	"$(psql_val "SELECT string_agg(split_part(action, ' ', 1) || ' ' || split_part(action, ' ', 2) || '|' || result, ' ' ORDER BY id)
		FROM (SELECT * FROM audit_log WHERE subject = 'customer $CID' AND action ~ '^customer (note|unlock)' ORDER BY id LIMIT 2) a")"
out=$(ctl customer show "$P" --limit 1000)
for kind in "ticket_opened +$T1 " "ticket_reply +$T1 " "ticket_resolved +$T1 " "ticket_closed +$T1 " "rating +$ORDER " \
	"note +[0-9]+ +[^ ]+: \"prefers SMS in the evening\"" "pin_locked " "pin_unlock +[0-9]+ +PIN lockout lifted by" \
	"sms_in " "session " "order_placed +$ORDER " "order_status +$ORDER " "payment +$ORDER "; do
	check_match "$T: the merged timeline has ${kind%% *}" "  $kind" "$out"
done

# ---- forgetting a customer (POPIA) erases their words from care too
C2=$(psql_val "SELECT id FROM customers WHERE msisdn = '$(e164 "$P2")'")
ctl customer note "$P2" "lives behind the church" >/dev/null
before=$(psql_val "SELECT count(*) FROM care_messages WHERE customer_id = ${C2:-0} AND text IS NOT NULL")
ctl customer forget "$P2" >/dev/null
check_eq "$T: a forgotten customer's ticket messages and notes lose their words (the steps stay)" \
	"yes|0|(forgotten)" \
	"$(psql_val "SELECT CASE WHEN ${before:-0} > 0 THEN 'yes' ELSE 'no' END || '|' ||
		(SELECT count(*) FROM care_messages WHERE customer_id = ${C2:-0} AND text IS NOT NULL) || '|' ||
		(SELECT string_agg(DISTINCT text, ',') FROM customer_notes WHERE customer_id = ${C2:-0})")"

# ---- 7. the reply reaches the phone: outbox -> sendsms -> Kannel -> SMPP -> the SMSC's inbox

source "$SPAZA_TOP/scripts/kannel.sh"
if [ ! -x "$KANNEL_BIN/bearerbox" ] || [ ! -x "$KANNEL_BIN/smsbox" ]; then
	echo "SKIP: $T: Kannel not installed: the reply's way through Kannel is not tested"
	exit 0
fi
D=$VAR/test/$T
rm -rf "$D"
mkdir -p "$D"
run() { SPAZA_VAR=$D SPAZA_RUN_BUILD=no "$SPAZA_TOP/scripts/run" "$@" </dev/null; }
export SPAZA_HTTP_PORT SPAZA_VTY_PORT
SPAZA_HTTP_PORT=$(free_port)
SPAZA_VTY_PORT=$(free_port)
at_exit "run stop >/dev/null 2>&1"
out=$(run 2>"$D/run.err") || { fail "$T: kannel: ./scripts/run: $(oneline "$(tail -n 5 "$D/run.err")")"; exit 0; }
CONTROL=$(sed -n 2p <<<"$out")
M=27829940$(printf '%03d' $((RANDOM % 1000)))
r=$(curl -s --noproxy '*' -d "msisdn=$M&to=31555&text=my parcel is lost" "$CONTROL/sms")
inbox=$(curl -s --noproxy '*' -m 40 "$CONTROL/inbox?msisdn=$M&wait=30000")
check_match "$T: kannel: free text by SMS through Kannel: the ticket's number comes back to the phone" \
	'31555	Spaza: thank you, we got your message\. Ticket #[0-9]+ is open' "$inbox"
TK=$(ticket_of "$inbox")
out=$("$SPAZACTL" -c "$D/spazad.cfg" care reply "${TK:-0}" "We found it: it comes tomorrow." 2>&1)
check_match "$T: kannel: care reply on the demo's gateway" "^reply queued as SMS #[0-9]+; ticket #$TK waits" "$out"
got() { curl -s --noproxy '*' -m 10 "$CONTROL/inbox?msisdn=$M" | grep -q 'We found it: it comes tomorrow\.'; }
check_true "$T: kannel: the staff reply reaches the phone's inbox from the short code" \
	"inbox: <$(oneline "$(curl -s --noproxy '*' "$CONTROL/inbox?msisdn=$M")")>" wait_for 40 got
run stop >/dev/null 2>&1
exit 0
