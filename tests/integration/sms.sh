# SMS keyword commands over GET /kannel/mo as Kannel's sms-service calls it, the customer's SMS
# timeline, STOP/START and marketing, and the persistent outbox: notifications rendered in the
# customer's language go out through sendsms (a throwaway nginx stands in for smsbox), delivery
# reports land on the rows, and a sendsms outage delays SMS without losing any.
source "$(dirname "$0")/lib.sh"

P=$(t_phone 30)
E=$(e164 "$P")
P2=$(t_phone 30)
E2=$(e164 "$P2")
ctl() { "$SPAZACTL" -c "$SPAZA_CFG" "$@"; }
# mo PHONE TEXT ID [BASE-URL]: one MO as smsbox's get-url sends it; prints the reply body
mo() {
	curl -sS --max-time 20 --noproxy '*' -G --data-urlencode "from=$1" --data-urlencode "to=31555" \
		--data-urlencode "text=$2" --data-urlencode "meta=" --data-urlencode "id=$3" \
		--data-urlencode "smsc=it-smsc" "${4:-$SPAZA_URL}/kannel/mo"
}
mid() { echo "it-sms-$$-$RANDOM$RANDOM"; }

# ---- 1. keyword commands through the shared daemon

r=$(ussd "$(t_sid)" "$P" "1*2*1*1*3*1")
ORDER=$(sed -n 's/^END Order #\([0-9]*\) placed.*/\1/p' <<<"$r")
check_match "a USSD order to ask about by SMS" '^[0-9]+$' "$ORDER"

r=$(mo "$P" "STATUS $ORDER" "$(mid)")
check_eq "STATUS <order> answers with the order's status and total" \
	"Order #$ORDER: awaiting payment. Total R83.97." "$r"
r=$(mo "$P" "orders" "$(mid)")
check_eq "orders (lower case) lists the customer's orders" "Your orders: #$ORDER awaiting payment R83.97" "$r"
r=$(mo "$P" "  Isimo #$ORDER " "$(mid)")
check_eq "the isiZulu keyword ISIMO works too; the reply is in the customer's language (English)" \
	"Order #$ORDER: awaiting payment. Total R83.97." "$r"
r=$(mo "$P" "STATUS" "$(mid)")
check_eq "STATUS without an order number explains itself" "Send STATUS and your order number, e.g. STATUS 1001." "$r"
r=$(mo "$P2" "STATUS $ORDER" "$(mid)")
check_eq "another customer's order is not found" \
	"We cannot find order #$ORDER for your number. Send ORDERS to see your orders." "$r"
r=$(mo "$P" "" "$(mid)")
check_eq "an empty text gets a short help" "Sorry, we did not understand. Send HELP for the list of commands." "$r"
r=$(mo "$P" "what is this" "$(mid)")
check_match "any other text opens a care ticket, named in the answer (care.sh tests tickets)" \
	'^Spaza: thank you, we got your message\. Ticket #[0-9]+ is open and a person will answer you by SMS\.$' "$r"

r=$(mo "$P" "taal zu" "$(mid)")
check_eq "TAAL zu (the Afrikaans keyword) switches to isiZulu, confirmed in isiZulu" \
	"I-Spaza izokubhalela ngolimi: isiZulu." "$r"
check_eq "the language is stored on the customer" zu "$(psql_val "SELECT lang FROM customers WHERE msisdn = '$E'")"
r=$(mo "$P" "status $ORDER" "$(mid)")
check_eq "STATUS is answered in isiZulu now" "I-oda #$ORDER: kulindwe inkokhelo. Isamba R83.97." "$r"
r=$(mo "$P" "LANG EN" "$(mid)")
check_eq "LANG EN switches back to English" "Spaza will write to you in English." "$r"

# ---- 2. Kannel's duplicate delivery: answered once with the same reply, stored once

DUP=$(mid)
r1=$(mo "$P" "HELP" "$DUP")
r2=$(mo "$P" "HELP" "$DUP")
check_match "HELP lists the commands" '^Spaza SMS: STATUS <order>, ORDERS, BAL, POINTS, COMPLAIN <order> <text>, RATE <order> <1-5>, ' "$r1"
check_eq "the same MO id delivered again gets the same reply" "$r1" "$r2"
# HELP names the care, money and points keywords in every language, within one SMS
for l in "ZU|IBHALANSI, AMAPHUZU, KHALAZA <i-oda> <umbhalo>, LINGANISA <i-oda> <1-5>" "AF|SALDO, PUNTE, KLA <bestelnr> <teks>, BEOORDEEL <bestelnr> <1-5>" \
	"EN|BAL, POINTS, COMPLAIN <order> <text>, RATE <order> <1-5>"; do
	mo "$P" "LANG ${l%%|*}" "$(mid)" >/dev/null
	r=$(mo "$P" "HELP" "$(mid)")
	check_has "HELP in ${l%%|*} lists BAL, POINTS, COMPLAIN and RATE" "${l#*|}" "$r"
	check_true "... in one SMS (160 characters at most)" "${#r} characters" test "${#r}" -le 160
done
n=$(psql_val "SELECT count(*) FROM sms_messages WHERE mo_id = '$DUP'")
check_eq "the duplicate MO is stored once" 1 "$n"
n=$(psql_val "SELECT count(*) FROM sms_messages r JOIN sms_messages m ON r.reply_to = m.id WHERE m.mo_id = '$DUP'")
check_eq "its reply is stored once" 1 "$n"

# ---- 3. STOP, marketing, START

r=$(mo "$P" "stop" "$(mid)")
check_eq "STOP is confirmed by SMS" \
	"You will get no more promotions from Spaza. Order SMS still come. Send START to get promotions again." "$r"
row=$(psql_val "SELECT opt_out || '|' || opt_out_source || '|' || (opt_out_at > now() - interval '1 minute')
	FROM customers WHERE msisdn = '$E'")
check_eq "the opt-out is stored with its time and source" "true|sms:kannel|true" "$row"
mo "$P2" "help" "$(mid)" >/dev/null	# P2 is a customer who never sent STOP

TEXT="Specials at Spaza $$-$RANDOM: bread R15"
out=$(ctl sms marketing "$TEXT" 2>&1)
check_match "spazactl sms marketing reports queued and suppressed counts" \
	'^marketing SMS queued for [1-9][0-9]* customers, suppressed for [1-9][0-9]* who opted out$' "$out"
st=$(psql_val "SELECT m.status FROM sms_messages m JOIN customers c ON c.id = m.customer_id
	WHERE c.msisdn = '$E' AND m.kind = 'marketing' AND m.text = '$TEXT'")
check_eq "the marketing SMS is suppressed for the customer who sent STOP" suppressed "$st"
st=$(psql_val "SELECT m.status FROM sms_messages m JOIN customers c ON c.id = m.customer_id
	WHERE c.msisdn = '$E2' AND m.kind = 'marketing' AND m.text = '$TEXT'")
check_eq "and queued for a customer who did not" queued "$st"

r=$(mo "$P" "Start." "$(mid)")
check_eq "START is confirmed by SMS" "You will get Spaza promotions again. Send STOP to stop them." "$r"
check_eq "START clears the opt-out" "false|sms:kannel" \
	"$(psql_val "SELECT opt_out || '|' || opt_out_source FROM customers WHERE msisdn = '$E'")"

out=$(ctl customer show "$P" 2>&1)
check_match "customer show has the marketing state" $'\nmarketing opted in since [0-9-]+ [0-9:]+ \\(sms:kannel\\)\n' "$out"
check_match "customer show lists SMS in with the command they were read as" '  sms_in +[0-9]+ +stop: "stop"' "$out"
check_match "customer show lists SMS out with kind and state" \
	'  sms_out +[0-9]+ +opt_confirm sent: "You will get Spaza promotions again' "$out"
check_match "customer show lists the suppressed marketing SMS" \
	"  sms_out +[0-9]+ +marketing suppressed: \"$TEXT\"" "$out"
check_match "customer show lists the order notification waiting in the outbox" \
	"  sms_out +[0-9]+ +order_placed queued: order #$ORDER awaiting_payment" "$out"

out=$(ctl sms send "$P" "$(printf 'x%.0s' $(seq 161))" 2>&1)
check_eq "spazactl sms send refuses a text longer than one SMS" \
	"spazactl: the text is 161 GSM-7 septets, one SMS holds 160" "$out"

# ---- 4. the outbox, with its own daemon and database and a fake sendsms (nginx)

DB=spaza_sms_it
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" >/dev/null 2>&1 ||
	{ fail "outbox: a database of its own: expected one, got none"; exit 0; }
at_exit "psql -X -q -d postgres -c 'DROP DATABASE IF EXISTS $DB WITH (FORCE)' >/dev/null 2>&1"
SPAZA_CONNINFO="host=${PGHOST:-127.0.0.1} port=${PGPORT:-5432} user=${PGUSER:-postgres} dbname=$DB"
q() { psql -X -qtA -d "$DB" -c "$1"; }

NG=$T_TMP/nginx
NGPORT=$(free_port)
mkdir -p "$NG/tmp"
cat > "$NG/nginx.conf" <<EOF
daemon on;
pid $NG/nginx.pid;
error_log $NG/error.log;
events { worker_connections 64; }
http {
	access_log $NG/access.log;
	client_body_temp_path $NG/tmp;
	proxy_temp_path $NG/tmp;
	fastcgi_temp_path $NG/tmp;
	uwsgi_temp_path $NG/tmp;
	scgi_temp_path $NG/tmp;
	server {
		listen 127.0.0.1:$NGPORT;
		location / { return 202 "0: Accepted for delivery"; }
	}
}
EOF
ng_up() { nginx -p "$NG" -c "$NG/nginx.conf" -e "$NG/error.log" && wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$NGPORT/"; }
ng_down() {
	[ -f "$NG/nginx.pid" ] && kill -QUIT "$(cat "$NG/nginx.pid")" 2>/dev/null
	wait_for 10 sh -c "! curl -s -o /dev/null 'http://127.0.0.1:$NGPORT/'"
}
ng_up || { fail "outbox: a fake sendsms (nginx) starts: expected it to, got <$(cat "$NG/error.log")>"; exit 0; }
at_exit ng_down

# the schema and the catalogue first, so the daemon starts with them
own_cfg "$T_TMP/pre.cfg" 1 1
"$SPAZACTL" -c "$T_TMP/pre.cfg" catalog import "$SPAZA_TOP/menus/demo-catalog.csv" >/dev/null ||
	{ fail "outbox: the catalogue imported into the database of its own"; exit 0; }

PASSWORD=it-sendsms-secret-$RANDOM
spaza_secret_set "$T_TMP/secrets" kannel-sendsms-password "$PASSWORD"
own_up sms_outbox " kannel sendsms url http://127.0.0.1:$NGPORT/cgi-bin/sendsms username spaza" \
	" kannel sendsms from 31555" " sms retry min 1 max 2" \
	" sms outbox poll 1 in-flight 8" " session hop-deadline 700" ||
	{ fail "outbox: own spazad starts (log: $OWN_LOG)"; exit 0; }
octl() { "$SPAZACTL" -c "$OWN_CFG" "$@"; }

urldecode() { local s=${1//+/ }; printf '%b' "${s//%/\\x}"; }
# the sendsms requests so far, one per line, each its query string
requests() { sed -n 's/^.*"GET \/cgi-bin\/sendsms?\([^ ]*\) HTTP.*/\1/p' "$NG/access.log" 2>/dev/null; }
param() { sed -n "s/^\\(.*&\\)\\{0,1\\}$1=\\([^&]*\\).*/\\2/p" <<<"$2"; }
# request_with TEXT: the query of the sendsms request whose decoded text is TEXT
request_with() {
	local r
	while read -r r; do
		[ "$(urldecode "$(param text "$r")")" == "$1" ] && { echo "$r"; return 0; }
	done < <(requests)
	return 1
}
sent_text() { request_with "$1" >/dev/null; }

P3=$(t_phone 31)
E3=$(e164 "$P3")
r=$(ussd "$(t_sid)" "$P3" "1*2*1*1*3*1" "" "$OWN_URL")
O3=$(sed -n 's/^END Order #\([0-9]*\) placed.*/\1/p' <<<"$r")
check_match "outbox: an order on the own daemon" '^[0-9]+$' "$O3"
PLACED="Spaza: thank you! Order #$O3 is placed, total R83.97. Status: awaiting payment. Send STATUS $O3 any time."
check_true "outbox: the order-placed SMS goes to sendsms with the rendered text" \
	"expected a request with <$PLACED>, got <$(oneline "$(requests)")>" wait_for 10 sent_text "$PLACED"

octl credit set-limit "$P3" 1000 >/dev/null
r=$(ussd "$(t_sid)" "$P3" "3*$O3*2*1" "" "$OWN_URL")	# Credit, Confirm
check_match "outbox: the order is paid on credit before it ships" "^END Order #$O3 " "$r"
out=$(octl order status "$O3" shipped 2>&1)
check_eq "outbox: spazactl order status (unchanged code) moves the order" "order #$O3: paid -> shipped" "$out"
SHIPPED="Spaza: order #$O3 is now shipped. Total R83.97."
check_true "outbox: the status change leads to a sendsms request with the right text" \
	"expected a request with <$SHIPPED>, got <$(oneline "$(requests)")>" wait_for 10 sent_text "$SHIPPED"
req=$(request_with "$SHIPPED")
ROW=$(q "SELECT id FROM sms_messages WHERE order_id = $O3 AND kind = 'order_status' AND order_status = 'shipped'")
check_eq "outbox: to is the customer's E.164 number" "$E3" "$(urldecode "$(param to "$req")")"
check_eq "outbox: from is the configured short code" 31555 "$(param from "$req")"
check_eq "outbox: the sendsms user and password are sent" "spaza|$PASSWORD" "$(param username "$req")|$(param password "$req")"
check_eq "outbox: GSM-7 text goes as UTF-8 with coding 0" "UTF-8|0" "$(param charset "$req")|$(param coding "$req")"
check_eq "outbox: every DLR type is requested" 31 "$(param dlr-mask "$req")"
check_eq "outbox: the DLR URL points at /kannel/dlr with the row id, %d and %A" \
	"${OWN_URL}/kannel/dlr?id=$ROW&type=%d&reply=%A" "$(urldecode "$(param dlr-url "$req")")"
wait_for 5 sh -c "[ \"\$(psql -X -qtA -d $DB -c \"SELECT status FROM sms_messages WHERE id = $ROW\")\" = sent ]"
check_eq "outbox: the row is sent, with the text it went out with" "sent|$SHIPPED" \
	"$(q "SELECT status || '|' || text FROM sms_messages WHERE id = $ROW")"

code=$(curl -s -o /dev/null -w '%{http_code}' --noproxy '*' "$OWN_URL/kannel/dlr?id=$ROW&type=8&reply=ACK%2F")
check_eq "outbox: an SMSC-submit DLR (8) is accepted" 200 "$code"
check_eq "outbox: after DLR 8 the row is still sent, the report noted" "sent|submitted" \
	"$(q "SELECT status || '|' || dlr FROM sms_messages WHERE id = $ROW")"
code=$(curl -s -o /dev/null -w '%{http_code}' --noproxy '*' "$OWN_URL/kannel/dlr?id=$ROW&type=1&reply=id%3A7+stat%3ADELIVRD")
check_eq "outbox: a delivered DLR (1) is accepted" 200 "$code"
check_eq "outbox: /kannel/dlr type=1 marks the row delivered, with the SMSC's words" \
	"delivered|delivered|id:7 stat:DELIVRD" "$(q "SELECT status || '|' || dlr || '|' || smsc_reply FROM sms_messages WHERE id = $ROW")"
curl -s -o /dev/null --noproxy '*' "$OWN_URL/kannel/dlr?id=$ROW&type=4"
check_eq "outbox: a late buffered DLR does not undo delivered" "delivered|delivered" \
	"$(q "SELECT status || '|' || dlr FROM sms_messages WHERE id = $ROW")"
code=$(curl -s -o /dev/null -w '%{http_code}' --noproxy '*' "$OWN_URL/kannel/dlr?id=999999999&type=1")
check_eq "outbox: a DLR for an unknown message answers 404" 404 "$code"
code=$(curl -s -o /dev/null -w '%{http_code}' --noproxy '*' "$OWN_URL/kannel/dlr?id=$ROW&type=3")
check_eq "outbox: a DLR of an unknown type answers 400" 400 "$code"
out=$("$SPAZACTL" -c "$OWN_CFG" customer show "$P3" 2>&1)
check_has "outbox: customer show has the notification with its DLR state" \
	"order_status delivered (dlr delivered): \"$SHIPPED\"" "$out"

# a non-GSM-7 text goes out as UTF-16BE with coding 2 and no charset
octl sms send "$P3" "Kategorieë" >/dev/null
check_true "outbox: a non-GSM-7 SMS is sent" "expected a request for it, got <$(oneline "$(requests)")>" \
	wait_for 10 sh -c "grep -q 'text=%00K%00a%00t%00e%00g%00o%00r%00i%00e%00%EB' '$NG/access.log'"
req=$(requests | grep 'text=%00K%00a' | tail -1)
check_eq "outbox: UCS-2 text has coding 2 and no charset" "2|" "$(param coding "$req")|$(param charset "$req")"

# Kannel away: the row stays queued, retried with back-off, and goes once it is back
ng_down
OUTAGE="Outage test $$-$RANDOM"
octl sms send "$P3" "$OUTAGE" >/dev/null
OROW=$(q "SELECT id FROM sms_messages WHERE text = '$OUTAGE'")
tried() { [ "$(q "SELECT attempts >= 2 FROM sms_messages WHERE id = $OROW")" = t ]; }
wait_for 10 tried
check_eq "outbox: with sendsms down the row stays queued, tried again, with the error noted" "queued|true|true" \
	"$(q "SELECT status || '|' || (attempts >= 2) || '|' || (last_error LIKE '%connect%') FROM sms_messages WHERE id = $OROW")"
ng_up || fail "outbox: the fake sendsms comes back"
check_true "outbox: the queued SMS is sent once sendsms is back" "expected a request with <$OUTAGE>, got none" \
	wait_for 15 sent_text "$OUTAGE"
wait_for 5 sh -c "[ \"\$(psql -X -qtA -d $DB -c \"SELECT status FROM sms_messages WHERE id = $OROW\")\" = sent ]"
check_eq "outbox: and marked sent" sent "$(q "SELECT status FROM sms_messages WHERE id = $OROW")"
check_eq "outbox: it was sent once" 1 "$(requests | grep -c "$(printf '%s' "$OUTAGE" | sed 's/ /%20/g')")"

# a reply the database holds up past the hop deadline: nothing synchronously, then the outbox sends it
psql -X -q -d "$DB" -c "BEGIN" -c "SELECT id FROM customers WHERE msisdn = '$E3' FOR UPDATE" \
	-c "SELECT pg_sleep(2.5)" -c "COMMIT" >/dev/null 2>&1 &
LOCKER=$!
locked() { psql -X -qtA -d "$DB" -c "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(2.5)%'" | grep -qx 1; }
wait_for 5 locked
start=$(date +%s%N)
r=$(mo "$P3" "STOP" "$(mid)" "$OWN_URL")
took=$(( ($(date +%s%N) - start) / 1000000 ))
check_eq "outbox: a reply not ready within the hop deadline (700 ms) is an empty answer" "" "$r"
check_true "outbox: the empty answer comes at the deadline, not later" "it took $took ms" test "$took" -lt 2000
wait "$LOCKER"
STOPTXT="You will get no more promotions from Spaza. Order SMS still come. Send START to get promotions again."
check_true "outbox: the late reply goes out through the outbox" "expected a request with <$STOPTXT>, got none" \
	wait_for 10 sent_text "$STOPTXT"

check_eq "outbox: the sendsms password never reaches the log" 0 "$(grep -c "$PASSWORD" "$OWN_LOG")"
own_down "sms outbox"
