# The back office's JSON on its own (doc/back-office.md): logins and their throttles, session
# cookies, CSRF, roles (401/403), the orders board's pages and a bulk status change that sends
# each customer the SMS `spazactl order status` sends, with its audit row.
source "$(dirname "$0")/lib.sh"
T=office_api
A=$SPAZA_ADMIN_URL
JAR=$T_TMP/jar
# code PATH [curl args...]: the status; the body in $T_TMP/body, the headers in $T_TMP/head
code() { local p=$1; shift; curl -s --noproxy '*' --max-time 20 -o "$T_TMP/body" -D "$T_TMP/head" -w '%{http_code}' "$@" "$A$p" || true; }
login() { # login USER PASSWORD [JAR]
	code /admin/api/login -c "${3:-$JAR}" -H 'Content-Type: application/json' \
		--data "{\"login\": \"$1\", \"password\": \"$2\"}"
}
csrf() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["csrf"])' "$T_TMP/body"; }
jq_() { python3 -c "import json,sys; d=json.load(open('$T_TMP/body')); print($1)"; }

S=$$$RANDOM
PW=correct-horse-$S
for r in owner care fulfilment finance; do
	echo "$PW" | "$SPAZACTL" -c "$SPAZA_CFG" staff add "$r$S" --role "$r" --password-stdin >/dev/null ||
		{ echo "spazactl staff add $r failed" >&2; exit 1; }
done
RET=$(psql_val "INSERT INTO retailers (name) VALUES ('office shop $S') RETURNING id")
echo "$PW" | "$SPAZACTL" -c "$SPAZA_CFG" staff add "till$S" --role retailer --retailer "$RET" --password-stdin >/dev/null

# ---- spazactl staff ----
out=$("$SPAZACTL" -c "$SPAZA_CFG" staff add "gen$S" --role care 2>&1)
check_match "$T: staff add without --password-stdin prints a generated password once" 'password  [A-Za-z0-9]{16}' "$out"
pwgen=$(sed -n 's/^password  //p' <<<"$out")
check_match "$T: the password is stored only as its scrypt hash" '^scrypt\$16384\$8\$1\$[0-9a-f]{32}\$[0-9a-f]{64}$' \
	"$(psql_val "SELECT pw_hash FROM staff WHERE login = 'gen$S'")"
check_lacks "$T: the audit log never holds the password" "$pwgen" "$(psql_val "SELECT string_agg(action, ' ') FROM audit_log")"
check_eq "$T: a retailer user needs --retailer (usage error, exit 2)" 2 \
	"$("$SPAZACTL" -c "$SPAZA_CFG" staff add "x$S" --role retailer >/dev/null 2>&1; echo $?)"
check_eq "$T: an unknown role is a usage error" 2 "$("$SPAZACTL" -c "$SPAZA_CFG" staff add "x$S" --role boss >/dev/null 2>&1; echo $?)"
check_has "$T: staff list shows the accounts and roles" "fulfilment$S" "$("$SPAZACTL" -c "$SPAZA_CFG" staff list)"

# ---- login ----
check_eq "$T: a page without a session goes to the login page" "303" "$(code /admin/today)"
check_has "$T: ... /admin/login" "Location: /admin/login" "$(tr -d '\r' < "$T_TMP/head")"
check_eq "$T: the API without a session is 401" "401" "$(code /admin/api/today)"
check_eq "$T: the login page is served" "200" "$(code /admin/login)"
check_eq "$T: a wrong password is 401" "401" "$(login "owner$S" wrong-password-1)"
check_eq "$T: an unknown login is the same 401" "401|{\"error\":\"wrong login or password\"}" "$(login "nobody$S" "$PW")|$(cat "$T_TMP/body")"
check_eq "$T: the right password logs in" "200" "$(login "owner$S" "$PW")"
cookie=$(tr -d '\r' < "$T_TMP/head" | grep -i '^Set-Cookie: spaza_office=')
check_match "$T: the session cookie is HttpOnly, SameSite=Strict and expires" 'HttpOnly; SameSite=Strict' "$cookie"
check_match "$T: ... with a Max-Age" 'Max-Age=[0-9]+' "$cookie"
check_lacks "$T: ... not Secure on plain-HTTP loopback (a browser would never send it back)" "Secure" "$cookie"
OWNER_CSRF=$(csrf)
check_eq "$T: /admin/api/me names the owner and every page" "owner$S owner 11" \
	"$(code /admin/api/me -b "$JAR" >/dev/null; jq_ 'd["login"], d["role"], len(d["pages"])' | tr '\n' ' ' | sed 's/ $//')"
check_eq "$T: the login is in the audit log" "1" \
	"$(psql_val "SELECT count(*) FROM audit_log WHERE source = 'api' AND who = 'owner$S' AND action = 'login'")"

# ---- roles ----
login "till$S" "$PW" "$T_TMP/till" >/dev/null
check_eq "$T: a retailer user's menu is the till alone" "till" \
	"$(code /admin/api/me -b "$T_TMP/till" >/dev/null; jq_ '",".join(p["path"] for p in d["pages"])')"
check_eq "$T: a retailer user is refused Today's JSON (403)" "403" "$(code /admin/api/today -b "$T_TMP/till")"
check_eq "$T: ... and the orders page (403)" "403" "$(code /admin/orders -b "$T_TMP/till")"
login "finance$S" "$PW" "$T_TMP/fin" >/dev/null
FIN_CSRF=$(csrf)
check_eq "$T: finance may not change an order (403)" "403" \
	"$(code /admin/api/orders/status -b "$T_TMP/fin" -H "X-CSRF-Token: $FIN_CSRF" -H 'Content-Type: application/json' \
		--data '{"ids": [1], "status": "shipped"}')"
check_eq "$T: Today answers the owner with the day's figures" "200" "$(code /admin/api/today -b "$JAR")"
check_eq "$T: ... orders, payments, SMS and the alarms" "True True True ok" \
	"$(jq_ '"orders" in d, "payments" in d, "sms" in d, d["alarms"]["database"]' | tr '\n' ' ' | sed 's/ $//')"

# ---- the board ----
C=$(psql_val "INSERT INTO customers (msisdn) VALUES ('+2782971' || lpad(($S % 99999)::text, 5, '0'))
	ON CONFLICT (msisdn) DO UPDATE SET lang = customers.lang RETURNING id")
MS=$(psql_val "SELECT msisdn FROM customers WHERE id = $C")
MSQ=${MS/+/%2B}	# in a query string
P=$(psql_val "SELECT id || ' ' || price_cents FROM products WHERE active ORDER BY id LIMIT 1")
# mk N [paid]: an order of the customer's, paid on credit through the ledger as a USSD credit
# payment is (so that ledger check holds)
psql_val "SELECT spaza_credit_set_limit($C, 100000000)" >/dev/null
mk() {
	local o
	o=$(psql_val "INSERT INTO orders (customer_id, product_id, qty, unit_cents, total_cents, idem_key)
		VALUES ($C, ${P% *}, 1, ${P#* }, ${P#* }, 'office-$S-$1') RETURNING id")
	[ -z "${2:-}" ] || psql_val "SELECT outcome FROM spaza_credit_hold('office:$S:$o', $C, $o);
		SELECT outcome FROM spaza_credit_post($o)" >/dev/null
	echo "$o"
}
O1=$(mk 1 paid) O2=$(mk 2 paid) O3=$(mk 3)
login "fulfilment$S" "$PW" "$T_TMP/ful" >/dev/null
FUL_CSRF=$(csrf)
check_eq "$T: the board filtered by number, a page of 2" "200|$O3,$O2" \
	"$(code "/admin/api/orders?msisdn=$MSQ&limit=2" -b "$T_TMP/ful")|$(jq_ '",".join(str(o["id"]) for o in d["orders"])')"
next=$(jq_ 'd["next_before"]')
check_eq "$T: ... the next page starts below it and is the last" "$O1|None" \
	"$(code "/admin/api/orders?msisdn=$MSQ&limit=2&before=$next" -b "$T_TMP/ful" >/dev/null; jq_ '",".join(str(o["id"]) for o in d["orders"])')|$(jq_ 'd["next_before"]')"
check_eq "$T: the board by status counts every status" "True" \
	"$(code "/admin/api/orders?status=paid" -b "$T_TMP/ful" >/dev/null; jq_ 'd["counts"]["paid"] >= 2 and all(o["status"] == "paid" for o in d["orders"])')"
check_eq "$T: a limit out of range is 400" "400" "$(code "/admin/api/orders?limit=0" -b "$T_TMP/ful")"
check_eq "$T: an unknown status is 400" "400" "$(code "/admin/api/orders?status=lost" -b "$T_TMP/ful")"

body="{\"ids\": [$O1, $O2, $O3], \"status\": \"shipped\"}"
check_eq "$T: a change without the CSRF token is refused (403)" "403" \
	"$(code /admin/api/orders/status -b "$T_TMP/ful" -H 'Content-Type: application/json' --data "$body")"
check_eq "$T: ... with another session's token too" "403" \
	"$(code /admin/api/orders/status -b "$T_TMP/ful" -H "X-CSRF-Token: $OWNER_CSRF" -H 'Content-Type: application/json' --data "$body")"
check_eq "$T: nothing changed" "paid" "$(psql_val "SELECT status FROM orders WHERE id = $O1")"
check_eq "$T: fulfilment ships two paid orders in bulk; the unpaid one is refused" "200|[$O1, $O2]|[$O3]" \
	"$(code /admin/api/orders/status -b "$T_TMP/ful" -H "X-CSRF-Token: $FUL_CSRF" -H 'Content-Type: application/json' --data "$body")|$(jq_ 'sorted(d["changed"])')|$(jq_ 'd["refused"]')"
check_eq "$T: each shipped customer's SMS is in the outbox" "2" \
	"$(psql_val "SELECT count(*) FROM sms_messages WHERE order_id IN ($O1, $O2) AND kind = 'order_status' AND order_status = 'shipped'")"
check_eq "$T: each change is in the audit log under the staff login" "2" \
	"$(psql_val "SELECT count(*) FROM audit_log WHERE source = 'api' AND who = 'fulfilment$S' AND subject IN ('order $O1', 'order $O2') AND after->>'status' = 'shipped'")"
check_eq "$T: the board may not mark an order paid (400)" "400" \
	"$(code /admin/api/orders/status -b "$T_TMP/ful" -H "X-CSRF-Token: $FUL_CSRF" -H 'Content-Type: application/json' --data "{\"ids\": [$O3], \"status\": \"paid\"}")"
check_eq "$T: a body that is not JSON is 400" "400" \
	"$(code /admin/api/orders/status -b "$T_TMP/ful" -H "X-CSRF-Token: $FUL_CSRF" --data 'ids=1')"

# ---- Customer 360 ----
check_eq "$T: a customer by number: the record, credit and timeline" "200|$MS|True" \
	"$(code "/admin/api/customer?msisdn=$MSQ" -b "$T_TMP/fin")|$(jq_ 'd["msisdn"]')|$(jq_ 'any(e["kind"] == "order_placed" and e["ref"] == "'$O1'" for e in d["timeline"])')"
check_eq "$T: ... newest first" "True" "$(jq_ 'all(a["at"] >= b["at"] for a, b in zip(d["timeline"], d["timeline"][1:]))')"
check_eq "$T: an unknown number is 404" "404" "$(code "/admin/api/customer?msisdn=0829999999" -b "$T_TMP/fin")"
check_eq "$T: finance sets a credit limit" "200|{\"limit_cents\":50000,\"used_cents\":$((2 * ${P#* }))}" \
	"$(code /admin/api/customer/credit-limit -b "$T_TMP/fin" -H "X-CSRF-Token: $FIN_CSRF" -H 'Content-Type: application/json' \
		--data "{\"msisdn\": \"$MS\", \"limit_cents\": 50000}")|$(cat "$T_TMP/body")"
check_eq "$T: ... below what is in use is refused (409)" "409" \
	"$(code /admin/api/customer/credit-limit -b "$T_TMP/fin" -H "X-CSRF-Token: $FIN_CSRF" -H 'Content-Type: application/json' \
		--data "{\"msisdn\": \"$MS\", \"limit_cents\": 100}")"
check_eq "$T: ... and audited under the staff login" "1" \
	"$(psql_val "SELECT count(*) FROM audit_log WHERE who = 'finance$S' AND subject = 'customer $C' AND result = 'ok' AND after->>'limit_cents' = '50000'")"
login "care$S" "$PW" "$T_TMP/care" >/dev/null
CARE_CSRF=$(csrf)
check_eq "$T: a care agent may not set a credit limit (403)" "403" \
	"$(code /admin/api/customer/credit-limit -b "$T_TMP/care" -H "X-CSRF-Token: $CARE_CSRF" -H 'Content-Type: application/json' \
		--data "{\"msisdn\": \"$MS\", \"limit_cents\": 90000}")"
check_eq "$T: a care agent sends the customer an SMS" "200" \
	"$(code /admin/api/customer/sms -b "$T_TMP/care" -H "X-CSRF-Token: $CARE_CSRF" -H 'Content-Type: application/json' \
		--data "{\"msisdn\": \"$MS\", \"text\": \"Your order is on its way $S\"}")"
check_eq "$T: ... it is queued for the customer" "1" \
	"$(psql_val "SELECT count(*) FROM sms_messages WHERE customer_id = $C AND text = 'Your order is on its way $S' AND status IN ('queued', 'sent', 'delivered', 'failed')")"
check_eq "$T: an SMS longer than one is refused (400)" "400" \
	"$(code /admin/api/customer/sms -b "$T_TMP/care" -H "X-CSRF-Token: $CARE_CSRF" -H 'Content-Type: application/json' \
		--data "{\"msisdn\": \"$MS\", \"text\": \"$(printf 'x%.0s' $(seq 1 161))\"}")"

# ---- Customer 360's actions: refund, unlock, note; the timeline in pages ----
post() { # post JAR CSRF PATH JSON
	code "$3" -b "$1" -H "X-CSRF-Token: $2" -H 'Content-Type: application/json' --data "$4"
}
O4=$(mk 4 paid)
check_eq "$T: a care agent may not refund (403)" "403" \
	"$(post "$T_TMP/care" "$CARE_CSRF" /admin/api/customer/refund "{\"order\": $O4, \"reason\": \"late $S\"}")"
check_eq "$T: ... nor without the CSRF token, as finance (403)" "403" \
	"$(code /admin/api/customer/refund -b "$T_TMP/fin" -H 'Content-Type: application/json' --data "{\"order\": $O4, \"reason\": \"late $S\"}")"
check_eq "$T: finance refunds part of an order to where it came from (credit)" "200|100|credit" \
	"$(post "$T_TMP/fin" "$FIN_CSRF" /admin/api/customer/refund "{\"order\": $O4, \"amount_cents\": 100, \"reason\": \"late $S\"}")|$(jq_ 'd["refunded_cents"]')|$(jq_ 'd["to"]')"
check_eq "$T: ... the same request again is the same refund, not a second one" "200|1" \
	"$(post "$T_TMP/fin" "$FIN_CSRF" /admin/api/customer/refund "{\"order\": $O4, \"amount_cents\": 100, \"reason\": \"late $S\"}")|$(psql_val "SELECT count(*) FROM refund_requests WHERE idem_key LIKE 'office:refund:$O4:%'")"
check_eq "$T: ... more than is left is refused (409)" "409" \
	"$(post "$T_TMP/fin" "$FIN_CSRF" /admin/api/customer/refund "{\"order\": $O4, \"amount_cents\": 99999999, \"reason\": \"too much $S\"}")"
check_eq "$T: ... the customer is told by SMS once; each request is audited under the staff login" "1|2" \
	"$(psql_val "SELECT count(*) FROM sms_messages WHERE customer_id = $C AND mo_id LIKE 'office:refund:$O4:%'")|$(psql_val "SELECT count(*) FROM audit_log WHERE who = 'finance$S' AND action = 'refund' AND subject = 'order $O4' AND result = 'ok'")"
check_eq "$T: a care agent adds a note" "200" \
	"$(post "$T_TMP/care" "$CARE_CSRF" /admin/api/customer/note "{\"msisdn\": \"$MS\", \"text\": \"called about $O4 $S\"}")"
check_eq "$T: ... it is on the timeline, and audited" "True|1" \
	"$(code "/admin/api/customer?msisdn=$MSQ" -b "$T_TMP/care" >/dev/null; jq_ 'any("called about '$O4' '$S'" in e["summary"] for e in d["timeline"])')|$(psql_val "SELECT count(*) FROM audit_log WHERE who = 'care$S' AND action = 'customer note' AND subject = 'customer $C'")"
psql_val "INSERT INTO voucher_failures (customer_id, idem_key, request_hash, outcome)
	SELECT $C, 'office-$S-' || g, '\\x00', 'invalid' FROM generate_series(1, 5) g" >/dev/null
check_eq "$T: the 360 shows the PIN lockout" "5|True" \
	"$(code "/admin/api/customer?msisdn=$MSQ" -b "$T_TMP/care" >/dev/null; jq_ 'd["lockout"]["failures"]')|$(jq_ 'd["lockout"]["locked_until"] is not None')"
check_eq "$T: a care agent lifts it" "200|True|None" \
	"$(post "$T_TMP/care" "$CARE_CSRF" /admin/api/customer/unlock "{\"msisdn\": \"$MS\"}")|$(jq_ 'd["was_locked"]')|$(code "/admin/api/customer?msisdn=$MSQ" -b "$T_TMP/care" >/dev/null; jq_ 'd["lockout"]["locked_until"]')"
check_eq "$T: ... audited" "1" "$(psql_val "SELECT count(*) FROM audit_log WHERE who = 'care$S' AND action = 'customer unlock'")"
check_eq "$T: a fulfilment agent may not add a note (403)" "403" \
	"$(post "$T_TMP/ful" "$FUL_CSRF" /admin/api/customer/note "{\"msisdn\": \"$MS\", \"text\": \"x\"}")"
psql_val "INSERT INTO customer_notes (customer_id, text, author, at)
	SELECT $C, 'old note ' || g, 'test', now() - g * interval '1 minute' FROM generate_series(1, 210) g" >/dev/null
check_eq "$T: the timeline comes in pages of 200, with where the next starts" "200|200|True" \
	"$(code "/admin/api/customer?msisdn=$MSQ" -b "$T_TMP/care")|$(jq_ 'len(d["timeline"])')|$(jq_ 'd["next_before"] is not None')"
nb=$(jq_ 'd["next_before"]'); last=$(jq_ 'd["timeline"][-1]["at"]')
check_eq "$T: ... the next page is older, and the last" "True|None" \
	"$(code "/admin/api/customer?msisdn=$MSQ&before=$nb" -b "$T_TMP/care" >/dev/null; jq_ 'len(d["timeline"]) > 0 and all(e["at"] < "'$last'" for e in d["timeline"])')|$(jq_ 'd["next_before"]')"
check_eq "$T: a malformed before is 400" "400" "$(code "/admin/api/customer?msisdn=$MSQ&before=x%27" -b "$T_TMP/care")"

# ---- Care ----
TK=$("$SPAZACTL" -c "$SPAZA_CFG" care open "$MS" --order "$O4" not_delivered "where is it $S" | sed -n 's/^ticket #\([0-9]*\) .*/\1/p')
psql_val "UPDATE care_tickets SET opened_at = now() - interval '3 days' WHERE id = $TK" >/dev/null
check_eq "$T: the care queue lists the open ticket, both clocks breached" "200|True|True" \
	"$(code "/admin/api/care/tickets?filter=breached" -b "$T_TMP/care")|$(jq_ 'any(t["id"] == '$TK' for t in d["tickets"])')|$(jq_ '[t for t in d["tickets"] if t["id"] == '$TK'][0]["first_breached"] and [t for t in d["tickets"] if t["id"] == '$TK'][0]["resolution_breached"]')"
check_eq "$T: Today counts the open tickets past their clock" "True" \
	"$(code /admin/api/today -b "$T_TMP/care" >/dev/null; jq_ 'd["tickets"]["late"] >= 1 and d["tickets"]["open"] >= 1')"
check_eq "$T: fulfilment may not see the queue (403)" "403" "$(code "/admin/api/care/tickets" -b "$T_TMP/ful")"
check_eq "$T: an unknown filter is 400" "400" "$(code "/admin/api/care/tickets?filter=lost" -b "$T_TMP/care")"
check_eq "$T: a ticket with its messages" "200|not_delivered|where is it $S" \
	"$(code "/admin/api/care/ticket?id=$TK" -b "$T_TMP/care")|$(jq_ 'd["kind"]')|$(jq_ '[m["text"] for m in d["messages"] if m["step"] == "opened"][0]')"
check_eq "$T: a reply without the CSRF token is refused (403)" "403" \
	"$(code /admin/api/care/reply -b "$T_TMP/care" -H 'Content-Type: application/json' --data "{\"id\": $TK, \"text\": \"x\"}")"
check_eq "$T: the agent replies by SMS; the ticket waits on the customer" "200|waiting" \
	"$(post "$T_TMP/care" "$CARE_CSRF" /admin/api/care/reply "{\"id\": $TK, \"text\": \"On its way today $S\"}")|$(psql_val "SELECT state FROM care_tickets WHERE id = $TK")"
check_eq "$T: ... the SMS is queued for the customer" "1" \
	"$(psql_val "SELECT count(*) FROM sms_messages WHERE customer_id = $C AND text = 'On its way today $S'")"
check_eq "$T: ... the waiting filter shows it" "True" \
	"$(code "/admin/api/care/tickets?filter=waiting" -b "$T_TMP/care" >/dev/null; jq_ 'any(t["id"] == '$TK' for t in d["tickets"]) and all(t["state"] == "waiting" for t in d["tickets"])')"
check_eq "$T: the agent resolves it, with a note" "200|resolved" \
	"$(post "$T_TMP/care" "$CARE_CSRF" /admin/api/care/state "{\"id\": $TK, \"state\": \"resolved\", \"note\": \"delivered $S\"}")|$(psql_val "SELECT state FROM care_tickets WHERE id = $TK")"
check_eq "$T: ... twice is 409" "409" "$(post "$T_TMP/care" "$CARE_CSRF" /admin/api/care/state "{\"id\": $TK, \"state\": \"resolved\"}")"
check_eq "$T: ... then closes it; a closed ticket takes no reply (409)" "200|409" \
	"$(post "$T_TMP/care" "$CARE_CSRF" /admin/api/care/state "{\"id\": $TK, \"state\": \"closed\"}")|$(post "$T_TMP/care" "$CARE_CSRF" /admin/api/care/reply "{\"id\": $TK, \"text\": \"x\"}")"
check_has "$T: spazactl care show sees the same steps" "delivered $S" "$("$SPAZACTL" -c "$SPAZA_CFG" care show "$TK")"
check_eq "$T: each change is audited under the staff login" "3" \
	"$(psql_val "SELECT count(*) FROM audit_log WHERE who = 'care$S' AND subject = 'ticket $TK' AND action IN ('care reply', 'care resolve', 'care close') AND result = 'ok'")"
check_eq "$T: no such ticket is 404" "404" "$(code "/admin/api/care/ticket?id=999999999" -b "$T_TMP/care")"
TK2=$("$SPAZACTL" -c "$SPAZA_CFG" care open "$MS" --order "$O4" charged_twice "paid twice $S" | sed -n '1s/^ticket #\([0-9]*\) .*/\1/p')
check_eq "$T: a charged-twice ticket carries the double-charge evidence (none here)" "200|[]|False" \
	"$(code "/admin/api/care/ticket?id=$TK2" -b "$T_TMP/care")|$(jq_ 'd["double_charges"]')|$(jq_ 'd["may_refund"]')"
check_eq "$T: a care agent may not refund a double charge (403)" "403" \
	"$(post "$T_TMP/care" "$CARE_CSRF" /admin/api/care/dc-refund '{"id": 1}')"

# ---- till ----
TILL_CSRF=$(code /admin/api/me -b "$T_TMP/till" >/dev/null; csrf)
good=$(luhn_fix 91234000000000)
check_eq "$T: the till page's lookup refuses a mistyped slip number (400)" "400" \
	"$(code "/admin/api/till/slip?ref=${good:0:14}$(( (${good:14} + 1) % 10 ))" -b "$T_TMP/till")"
check_eq "$T: ... and a slip nobody made is 404" "404" "$(code "/admin/api/till/slip?ref=$(luhn_fix 91234999999999)" -b "$T_TMP/till")"
check_eq "$T: a retailer user's takings today" "200|0" "$(code /admin/api/till/takings -b "$T_TMP/till")|$(jq_ 'd["payments"]')"
check_eq "$T: a staff account of no retailer takes no cash (403)" "403" \
	"$(code /admin/api/till/pay -b "$JAR" -H "X-CSRF-Token: $OWNER_CSRF" -H 'Content-Type: application/json' --data '{"ref": "912340000000014", "amount_cents": 100}')"
check_eq "$T: a retailer without an active till key is told so (409)" "409" \
	"$(code /admin/api/till/pay -b "$T_TMP/till" -H "X-CSRF-Token: $TILL_CSRF" -H 'Content-Type: application/json' --data "{\"ref\": \"$(luhn_fix 91234999999999)\", \"amount_cents\": 100}")"

# ---- cash on delivery: the till page (a retailer user) and the orders board (sql/019) ----
cod() { local o; o=$(mk "cod$1"); psql_val "SELECT outcome FROM spaza_cod_choose($C, $o)" >/dev/null; echo "$o"; }
OC=$(cod 1) OB=$(cod 2) OX=$(cod 3)
DUE=${P#* }
check_eq "$T: the till page looks up a cash-on-delivery order: amount due, payable" "200|$DUE|True|awaiting_payment" \
	"$(code "/admin/api/till/cod?order=$OC" -b "$T_TMP/till")|$(jq_ 'd["amount_cents"]')|$(jq_ 'd["payable"]')|$(jq_ 'd["order_status"]')"
check_lacks "$T: ... nothing of the customer in it" "$MS" "$(cat "$T_TMP/body")"
check_eq "$T: ... an order not to be paid cash on delivery is refused (409)" "409" "$(code "/admin/api/till/cod?order=$O3" -b "$T_TMP/till")"
check_eq "$T: ... an unknown order is 404, a malformed one 400" "404|400" \
	"$(code "/admin/api/till/cod?order=999999999999" -b "$T_TMP/till")|$(code "/admin/api/till/cod?order=1%27" -b "$T_TMP/till")"
check_eq "$T: ... a staff account of no retailer is refused the till's lookup (403)" "403" "$(code "/admin/api/till/cod?order=$OC" -b "$JAR")"
check_eq "$T: confirming the cash without the CSRF token is refused (403)" "403" \
	"$(code /admin/api/till/cod -b "$T_TMP/till" -H 'Content-Type: application/json' --data "{\"order\": $OC, \"amount_cents\": $DUE}")"
check_eq "$T: ... not the amount due is refused (409)" "409" \
	"$(post "$T_TMP/till" "$TILL_CSRF" /admin/api/till/cod "{\"order\": $OC, \"amount_cents\": 1}")"
check_eq "$T: ... nor is an order not to be paid cash on delivery (409, stays unpaid)" "409|awaiting_payment" \
	"$(post "$T_TMP/till" "$TILL_CSRF" /admin/api/till/cod "{\"order\": $O3, \"amount_cents\": $DUE}")|$(psql_val "SELECT status FROM orders WHERE id = $O3")"
check_eq "$T: the retailer user confirms the cash taken: paid, by the shop and login" "200|paid|office shop $S (till$S)" \
	"$(post "$T_TMP/till" "$TILL_CSRF" /admin/api/till/cod "{\"order\": $OC, \"amount_cents\": $DUE}")|$(jq_ 'd["outcome"]')|$(jq_ 'd["confirmed_by"]')"
check_eq "$T: ... a second click is the same payment: one posting, one confirmation of the retailer's" "200|1|1|$RET|till_page" \
	"$(post "$T_TMP/till" "$TILL_CSRF" /admin/api/till/cod "{\"order\": $OC, \"amount_cents\": $DUE}")|$(psql_val "SELECT count(*) FROM ledger_txns WHERE order_id = $OC AND reason = 'cod_payment'")|$(psql_val "SELECT count(*) || '|' || min(retailer_id) || '|' || min(via) FROM cod_confirmations WHERE order_id = $OC")"
check_eq "$T: ... the customer is told it is paid (one SMS); audited under the retailer user" "1|2" \
	"$(psql_val "SELECT count(*) FROM sms_messages WHERE order_id = $OC AND kind = 'order_status' AND order_status = 'paid'")|$(psql_val "SELECT count(*) FROM audit_log WHERE who = 'till$S' AND action = 'till cod-paid $OC' AND result = 'ok'")"
check_eq "$T: ... the takings count it in what the retailer owes" "200|1|$DUE|$DUE" \
	"$(code /admin/api/till/takings -b "$T_TMP/till")|$(jq_ 'd["cod_payments"]')|$(jq_ 'd["cod_cents"]')|$(jq_ 'd["owed_cents"]')"
check_eq "$T: ... and so does settlement per retailer on the Money page" "200|$DUE|$DUE" \
	"$(code "/admin/api/money/settlement?days=1" -b "$T_TMP/fin")|$(jq_ 'sum(r["cod_cents"] for r in d["settlement"] if r["retailer_id"] == '$RET')')|$(jq_ 'sum(r["owed_cents"] for r in d["settlement"] if r["retailer_id"] == '$RET')')"
check_eq "$T: the board shows fulfilment the Cash received action on its COD orders" "200|True|True" \
	"$(code "/admin/api/orders?msisdn=$MSQ" -b "$T_TMP/ful")|$(jq_ 'd["may_confirm_cash"]')|$(jq_ '[o["cod"] for o in d["orders"] if o["id"] == '$OB'][0]')"
check_eq "$T: ... but not a care agent, who is refused it (403)" "False|403" \
	"$(code "/admin/api/orders?msisdn=$MSQ" -b "$T_TMP/care" >/dev/null; jq_ 'd["may_confirm_cash"]')|$(post "$T_TMP/care" "$CARE_CSRF" /admin/api/orders/cod-paid "{\"order\": $OB}")"
check_eq "$T: ... nor a retailer user (403)" "403" "$(post "$T_TMP/till" "$TILL_CSRF" /admin/api/orders/cod-paid "{\"order\": $OB}")"
check_eq "$T: finance sees the board for its cash, without the status change" "200|True|False" \
	"$(code "/admin/api/orders?msisdn=$MSQ" -b "$T_TMP/fin")|$(jq_ 'd["may_confirm_cash"]')|$(jq_ 'd["may_change_status"]')"
check_eq "$T: ... nor without the CSRF token (403); the order stays unpaid" "403|awaiting_payment" \
	"$(code /admin/api/orders/cod-paid -b "$T_TMP/ful" -H 'Content-Type: application/json' --data "{\"order\": $OB}")|$(psql_val "SELECT status FROM orders WHERE id = $OB")"
check_eq "$T: fulfilment confirms a courier's cash: paid, confirmed by the login, the shop's own cash" "200|fulfilment$S|office|" \
	"$(post "$T_TMP/ful" "$FUL_CSRF" /admin/api/orders/cod-paid "{\"order\": $OB}")|$(jq_ 'd["confirmed_by"]')|$(psql_val "SELECT via || '|' || coalesce(retailer_id::text, '') FROM cod_confirmations WHERE order_id = $OB")"
check_eq "$T: ... again is the same payment (one posting), the SMS once, audited under the login" "200|1|1|2" \
	"$(post "$T_TMP/ful" "$FUL_CSRF" /admin/api/orders/cod-paid "{\"order\": $OB}")|$(psql_val "SELECT count(*) FROM ledger_txns WHERE order_id = $OB AND reason = 'cod_payment'")|$(psql_val "SELECT count(*) FROM sms_messages WHERE order_id = $OB AND kind = 'order_status' AND order_status = 'paid'")|$(psql_val "SELECT count(*) FROM audit_log WHERE who = 'fulfilment$S' AND action = 'order cod-paid $OB' AND result = 'ok'")"
check_eq "$T: ... the retailer cannot take cash for it after (409, paid already)" "409|True" \
	"$(post "$T_TMP/till" "$TILL_CSRF" /admin/api/till/cod "{\"order\": $OB, \"amount_cents\": $DUE}")|$(jq_ '"paid already" in d["error"]')"
"$SPAZACTL" -c "$SPAZA_CFG" order cancel "$OX" >/dev/null
check_eq "$T: a cancelled cash-on-delivery order is refused on the board (409, says cancelled)" "409|True" \
	"$(post "$T_TMP/fin" "$FIN_CSRF" /admin/api/orders/cod-paid "{\"order\": $OX}")|$(jq_ '"cancelled" in d["error"]')"
check_eq "$T: ... and on the till page" "409" "$(post "$T_TMP/till" "$TILL_CSRF" /admin/api/till/cod "{\"order\": $OX, \"amount_cents\": $DUE}")"
check_eq "$T: ... an unknown order is 404" "404" "$(post "$T_TMP/ful" "$FUL_CSRF" /admin/api/orders/cod-paid '{"order": 999999999999}')"

# ---- web phone ----
check_match "$T: the web phone dials the menu, with the screen's length and coding" '"end":false.*"encoding":"GSM-7"' \
	"$(code /admin/api/phone/hop -b "$T_TMP/care" -H "X-CSRF-Token: $CARE_CSRF" -H 'Content-Type: application/json' \
		--data "{\"msisdn\": \"0829990$((S % 1000 + 1000))\", \"session\": \"t$S\", \"text\": \"\"}"; cat "$T_TMP/body")"
check_eq "$T: the web phone refuses anything but digits, * and # (400)" "400" \
	"$(code /admin/api/phone/hop -b "$T_TMP/care" -H "X-CSRF-Token: $CARE_CSRF" -H 'Content-Type: application/json' \
		--data '{"msisdn": "0829990001", "session": "x", "text": "1;DROP"}')"

# ---- catalogue check ----
csv=$(python3 -c 'import json,sys; print(json.dumps({"csv": open(sys.argv[1], encoding="utf-8", errors="replace").read()}))' \
	"$SPAZA_TOP/tests/integration/catalog_import_bad.csv")
check_eq "$T: the catalogue check lists the bad lines of a CSV, imports nothing" "200|False|True" \
	"$(code /admin/api/catalogue/check -b "$JAR" -H "X-CSRF-Token: $OWNER_CSRF" -H 'Content-Type: application/json' --data "$csv")|$(jq_ 'd["ok"]')|$(jq_ 'len(d["problems"]) >= 5 and all(p["line"] > 1 for p in d["problems"])')"
csv=$(python3 -c 'import json,sys; print(json.dumps({"csv": open(sys.argv[1]).read()}))' "$SPAZA_TOP/menus/demo-catalog.csv")
check_eq "$T: ... and a good one has none" "True|0" \
	"$(code /admin/api/catalogue/check -b "$JAR" -H "X-CSRF-Token: $OWNER_CSRF" -H 'Content-Type: application/json' --data "$csv" >/dev/null; jq_ 'd["ok"]')|$(jq_ 'len(d["problems"])')"

# ---- money ----
check_eq "$T: finance runs the ledger check" "200|True" "$(code /admin/api/money/ledger-check -b "$T_TMP/fin")|$(jq_ 'd["ok"]')"
check_eq "$T: finance lists the retailers, with no secret" "200|True|False" \
	"$(code /admin/api/money/retailers -b "$T_TMP/fin")|$(jq_ 'any(r["id"] == '$RET' for r in d["retailers"])')|$(jq_ 'any("secret" in r for r in d["retailers"])')"
check_eq "$T: settlement by day answers; 0 days is 400" "200|400" \
	"$(code "/admin/api/money/settlement?days=7" -b "$T_TMP/fin")|$(code "/admin/api/money/settlement?days=0" -b "$T_TMP/fin")"
check_eq "$T: a care agent is refused the money (403)" "403" "$(code /admin/api/money/ledger-check -b "$T_TMP/care")"

check_eq "$T: finance issues a voucher batch: the PINs come back once, as a CSV" "200|4|pin,value,expires" \
	"$(code /admin/api/money/vouchers -b "$T_TMP/fin" -H "X-CSRF-Token: $FIN_CSRF" -H 'Content-Type: application/json' \
		--data '{"count": 3, "value_cents": 2500, "expires": ""}')|$(wc -l < "$T_TMP/body")|$(head -1 "$T_TMP/body")"
check_match "$T: ... each a 16-digit PIN of R25.00" '^[0-9]{16},25\.00,20[0-9]{2}-[0-9]{2}-[0-9]{2}$' "$(sed -n 2p "$T_TMP/body")"
check_match "$T: ... as a download" 'Content-Disposition: attachment; filename="vouchers-[0-9]+-[0-9]+\.csv"' "$(tr -d '\r' < "$T_TMP/head")"
last4=$(sed -n 2p "$T_TMP/body" | cut -c13-16)
check_has "$T: ... and the vouchers are in the database (spazactl vouchers show)" "value R25.00" \
	"$("$SPAZACTL" -c "$SPAZA_CFG" vouchers show "$last4")"
check_eq "$T: ... the PINs are nowhere in the audit log" "" \
	"$(psql_val "SELECT action FROM audit_log WHERE action LIKE '%$(sed -n 2p "$T_TMP/body" | cut -c1-16)%'")"
check_eq "$T: ... which records the batch under the staff login" "1" \
	"$(psql_val "SELECT count(*) FROM audit_log WHERE who = 'finance$S' AND action LIKE 'vouchers issue --count 3 %' AND after->>'issued' = '3'")"
check_eq "$T: a batch over 5000 is refused (400)" "400" \
	"$(code /admin/api/money/vouchers -b "$T_TMP/fin" -H "X-CSRF-Token: $FIN_CSRF" -H 'Content-Type: application/json' \
		--data '{"count": 5001, "value_cents": 2500}')"

check_eq "$T: the catalogue on sale now, with prices and stock" "200|True" \
	"$(code /admin/api/catalogue/products -b "$JAR")|$(jq_ 'len(d["products"]) > 5 and all(p["price_cents"] > 0 for p in d["products"])')"

# ---- catalogue import after a clean check (sql/020: spaza_catalog_import, spazactl's own) ----
DEMO=$SPAZA_TOP/menus/demo-catalog.csv
# the demo file with one stock and one name changed: what the import must make true
sed -e "s/^104,Groceries,Rice 2kg,42.50,1000000\$/104,Groceries,Rice 2kg $((S % 1000)),42.50,4242/" "$DEMO" > "$T_TMP/changed.csv"
jcsv() { python3 -c 'import json,sys; d={"csv": open(sys.argv[1], encoding="utf-8", errors="replace").read()}
if len(sys.argv) > 2: d["digest"] = sys.argv[2]
print(json.dumps(d))' "$@"; }
check_eq "$T: a clean check gives the file's SHA-256 (the import wants it back)" "200|True|$(sha256sum < "$T_TMP/changed.csv" | cut -c1-64)" \
	"$(post "$JAR" "$OWNER_CSRF" /admin/api/catalogue/check "$(jcsv "$T_TMP/changed.csv")")|$(jq_ 'd["ok"]')|$(jq_ 'd["digest"]')"
DIG=$(jq_ 'd["digest"]')
RICE=$(psql_val "SELECT stock FROM products WHERE id = 104")	# other tests' orders hold some
ROWS=$(($(wc -l < "$DEMO") - 1))
check_eq "$T: the import without its CSRF token is refused (403), nothing changes" "403|$RICE" \
	"$(code /admin/api/catalogue/import -b "$JAR" -H 'Content-Type: application/json' --data "$(jcsv "$T_TMP/changed.csv" "$DIG")")|$(psql_val "SELECT stock FROM products WHERE id = 104")"
login "finance$S" "$PW" "$T_TMP/fin2" >/dev/null
FIN2_CSRF=$(csrf)
check_eq "$T: finance may not import the catalogue (403)" "403" \
	"$(post "$T_TMP/fin2" "$FIN2_CSRF" /admin/api/catalogue/import "$(jcsv "$T_TMP/changed.csv" "$DIG")")"
check_eq "$T: ... nor a care agent (403)" "403" \
	"$(post "$T_TMP/care" "$CARE_CSRF" /admin/api/catalogue/import "$(jcsv "$T_TMP/changed.csv" "$DIG")")"
check_eq "$T: a file that is not the checked one is refused (409)" "409|$RICE" \
	"$(post "$JAR" "$OWNER_CSRF" /admin/api/catalogue/import "$(jcsv "$DEMO" "$DIG")")|$(psql_val "SELECT stock FROM products WHERE id = 104")"
bad_dig=$(sha256sum < "$SPAZA_TOP/tests/integration/catalog_import_bad.csv" | cut -c1-64)
check_eq "$T: a file with bad lines is refused whole (400), with the lines" "400|True|$RICE" \
	"$(post "$JAR" "$OWNER_CSRF" /admin/api/catalogue/import "$(jcsv "$SPAZA_TOP/tests/integration/catalog_import_bad.csv" "$bad_dig")")|$(jq_ 'len(d["problems"]) >= 5')|$(psql_val "SELECT stock FROM products WHERE id = 104")"
check_eq "$T: an import without the digest is 400" "400" \
	"$(post "$JAR" "$OWNER_CSRF" /admin/api/catalogue/import "$(jcsv "$T_TMP/changed.csv")")"
check_eq "$T: the owner imports the checked file" "200|$ROWS|0" \
	"$(post "$JAR" "$OWNER_CSRF" /admin/api/catalogue/import "$(jcsv "$T_TMP/changed.csv" "$DIG")")|$(jq_ 'd["products"]')|$(jq_ 'd["retired"]')"
check_eq "$T: ... the database holds exactly the file" "4242|Rice 2kg $((S % 1000))" \
	"$(psql_val "SELECT stock || '|' || name FROM products WHERE id = 104")"
check_eq "$T: ... audited under the staff login with the file's digest" "1" \
	"$(psql_val "SELECT count(*) FROM audit_log WHERE who = 'owner$S' AND action = 'catalog import upload.csv' AND result = 'ok' AND after->>'sha256' = '$DIG'")"
wait_for 10 sh -c "curl -s --noproxy '*' -b '$JAR' '$A/admin/api/catalogue/products' | grep -q 'Rice 2kg $((S % 1000))'"
check_has "$T: ... and the page lists it" "Rice 2kg $((S % 1000))" "$(code /admin/api/catalogue/products -b "$JAR" >/dev/null; cat "$T_TMP/body")"
"$SPAZACTL" -c "$SPAZA_CFG" catalog import "$DEMO" >/dev/null	# the suite's catalogue again
check_eq "$T: spazactl's import runs the same function (the demo file back)" "1000000|Rice 2kg" \
	"$(psql_val "SELECT stock || '|' || name FROM products WHERE id = 104")"

# ---- a product's price and stock ----
pset() { post "${2:-$JAR}" "${3:-$OWNER_CSRF}" /admin/api/catalogue/product "$1"; }
check_eq "$T: the owner changes a price and a stock" "200|{\"sku\":101,\"price_cents\":1899,\"stock\":77}|1899 77" \
	"$(pset '{"sku": 101, "price_cents": 1899, "stock": 77}')|$(cat "$T_TMP/body")|$(psql_val "SELECT price_cents || ' ' || stock FROM products WHERE id = 101")"
check_eq "$T: ... audited with the price before and after" "1" \
	"$(psql_val "SELECT count(*) FROM audit_log WHERE who = 'owner$S' AND subject = 'product 101' AND result = 'ok'
		AND before->>'price_cents' = '1799' AND after->>'price_cents' = '1899' AND after->>'stock' = '77'")"
check_eq "$T: the stock alone keeps the price" "1899 78" \
	"$(pset '{"sku": 101, "stock": 78}' >/dev/null; psql_val "SELECT price_cents || ' ' || stock FROM products WHERE id = 101")"
check_eq "$T: a price above catalog limits price-max is refused (400)" "400|True" \
	"$(pset '{"sku": 101, "price_cents": 100000000000}')|$(jq_ '"price-max" in d["error"]')"
check_eq "$T: a price of zero, a negative stock, a price in text are refused (400)" "400 400 400" \
	"$(pset '{"sku": 101, "price_cents": 0}') $(pset '{"sku": 101, "stock": -1}') $(pset '{"sku": 101, "price_cents": "18.99"}')"
check_eq "$T: neither price nor stock, or no sku, is 400" "400 400" "$(pset '{"sku": 101}') $(pset '{"price_cents": 100}')"
check_eq "$T: no such product is 404" "404" "$(pset '{"sku": 999999, "price_cents": 100}')"
check_eq "$T: finance may not change a price (403), nor without CSRF" "403 403" \
	"$(pset '{"sku": 101, "price_cents": 1}' "$T_TMP/fin2" "$FIN2_CSRF") $(code /admin/api/catalogue/product -b "$JAR" -H 'Content-Type: application/json' --data '{"sku": 101, "price_cents": 1}')"
check_eq "$T: ... and nothing changed" "1899 78" "$(psql_val "SELECT price_cents || ' ' || stock FROM products WHERE id = 101")"
pset '{"sku": 101, "price_cents": 1799, "stock": 1000000}' >/dev/null

# ---- retailers and their till keys (Money) ----
check_eq "$T: finance adds a retailer: its till key's secret comes back once" "200|True|True|no-store" \
	"$(post "$T_TMP/fin2" "$FIN2_CSRF" /admin/api/money/retailer "{\"name\": \"new shop $S\"}")|$(jq_ 'bool(__import__("re").fullmatch("[0-9a-f]{64}", d["secret"]))')|$(jq_ 'd["key_id"].startswith("rk")')|$(tr -d '\r' < "$T_TMP/head" | sed -n 's/^Cache-Control: //p' | sort -u)"
NR=$(jq_ 'd["retailer_id"]') K1=$(jq_ 'd["key_id"]') SEC1=$(jq_ 'd["secret"]')
check_eq "$T: ... the database has the key id, active" "1" \
	"$(psql_val "SELECT count(*) FROM retailer_keys WHERE key_id = '$K1' AND retailer_id = $NR AND revoked_at IS NULL")"
# a signed till request for a well-formed slip that does not exist: 404 when the database knows
# the key and the secret signs for it, 401 when the key is unknown or revoked
NOSLIP=$(luhn_fix "9$(printf '%013d' $((S % 10000000000000)))")
tget() { local t; t=$(date +%s); curl -s --noproxy '*' --max-time 20 -o /dev/null -w '%{http_code}' -H "X-Spaza-Key: $1" \
	-H "X-Spaza-Signature: t=$t,v2=$(till_sign "$2" GET "/api/v1/slips/$NOSLIP" "$1" "$t" "")" "$SPAZA_TILL_URL/api/v1/slips/$NOSLIP"; }
check_eq "$T: ... the secret signs the till API's requests (no such slip: 404, not 401)" "404|401" \
	"$(tget "$K1" "$SEC1")|$(tget "$K1" "$(printf '0%.0s' $(seq 1 64))")"
check_eq "$T: ... the list shows its key id and never a secret" "200|True|False" \
	"$(code /admin/api/money/retailers -b "$T_TMP/fin2")|$(jq_ 'any(r.get("key_id") == "'$K1'" for r in d["retailers"])')|$(grep -c "$SEC1" "$T_TMP/body" | sed 's/^0$/False/')"
check_eq "$T: ... nor does the database, the audit log or spazad's log" "0|0|0" \
	"$(psql_val "SELECT count(*) FROM retailer_keys WHERE key_id LIKE '%$SEC1%'")|$(psql_val "SELECT count(*) FROM audit_log WHERE concat(action, subject, before, after) LIKE '%$SEC1%'")|$(grep -c "$SEC1" "$(dirname "$SPAZA_CFG")/spazad.log")"
check_eq "$T: ... the addition is audited under the staff login, with the key id" "1" \
	"$(psql_val "SELECT count(*) FROM audit_log WHERE who = 'finance$S' AND action = 'retailer add' AND subject = 'retailer $NR' AND after->>'key_id' = '$K1'")"
check_eq "$T: the same name again is 409" "409" "$(post "$T_TMP/fin2" "$FIN2_CSRF" /admin/api/money/retailer "{\"name\": \"new shop $S\"}")"
check_eq "$T: a name with a line break, an empty one or one of 65 characters is 400" "400 400 400" \
	"$(post "$T_TMP/fin2" "$FIN2_CSRF" /admin/api/money/retailer '{"name": "a\nb"}') $(post "$T_TMP/fin2" "$FIN2_CSRF" /admin/api/money/retailer '{"name": ""}') $(post "$T_TMP/fin2" "$FIN2_CSRF" /admin/api/money/retailer "{\"name\": \"$(printf 'x%.0s' $(seq 1 65))\"}")"
check_eq "$T: a care agent may not add a retailer or issue a key (403)" "403 403" \
	"$(post "$T_TMP/care" "$CARE_CSRF" /admin/api/money/retailer "{\"name\": \"care shop $S\"}") $(post "$T_TMP/care" "$CARE_CSRF" /admin/api/money/retailer-key "{\"retailer\": $NR}")"
check_eq "$T: ... nor finance without the CSRF token (403)" "403" \
	"$(code /admin/api/money/retailer-key -b "$T_TMP/fin2" -H 'Content-Type: application/json' --data "{\"retailer\": $NR}")"
check_eq "$T: the owner rotates the key: a new secret, once; the old key is revoked" "200|True|True" \
	"$(post "$JAR" "$OWNER_CSRF" /admin/api/money/retailer-key "{\"retailer\": $NR}")|$(jq_ 'd["rotated"] and d["key_id"] != "'$K1'"')|$(jq_ 'd["secret"] != "'$SEC1'"')"
K2=$(jq_ 'd["key_id"]') SEC2=$(jq_ 'd["secret"]')
check_eq "$T: ... one active key, the new one" "$K2|$K1" \
	"$(psql_val "SELECT string_agg(key_id, '|' ORDER BY revoked_at IS NOT NULL) FROM retailer_keys WHERE retailer_id = $NR AND (revoked_at IS NULL OR key_id = '$K1')")"
check_eq "$T: ... the old key no longer signs (401), the new one does" "401|404" "$(tget "$K1" "$SEC1")|$(tget "$K2" "$SEC2")"
check_eq "$T: ... audited, without the secret" "1|0" \
	"$(psql_val "SELECT count(*) FROM audit_log WHERE who = 'owner$S' AND action = 'retailer rotate-key' AND subject = 'retailer $NR' AND after->>'key_id' = '$K2'")|$(psql_val "SELECT count(*) FROM audit_log WHERE concat(before, after) LIKE '%$SEC2%'")"
check_eq "$T: a key for no such retailer is 404; a bad id 400" "404 400" \
	"$(post "$JAR" "$OWNER_CSRF" /admin/api/money/retailer-key '{"retailer": 999999999}') $(post "$JAR" "$OWNER_CSRF" /admin/api/money/retailer-key '{"retailer": "x"}')"
check_has "$T: spazactl rotates keys the same way (retailer_key.c)" "key id    rk" \
	"$("$SPAZACTL" -c "$SPAZA_CFG" retailer rotate-key "new shop $S")"

# ---- Customer 360: find by name ----
N1=$(psql_val "INSERT INTO customers (msisdn, name) VALUES ('+2783971' || lpad(($S % 99999)::text, 5, '0'), 'Thandeka Qwabe$((S % 1000))') RETURNING msisdn")
N2=$(psql_val "INSERT INTO customers (msisdn, name) VALUES ('+2784971' || lpad(($S % 99999)::text, 5, '0'), 'Sipho Qwabe$((S % 1000))') RETURNING msisdn")
QW="qwabe$((S % 1000))"
find_() { code "/admin/api/customer/find?q=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$1")" -b "${2:-$T_TMP/care}"; }
check_eq "$T: a name's part, any case, finds every customer who has it, by name" "200|Sipho Qwabe$((S % 1000)),Thandeka Qwabe$((S % 1000))" \
	"$(find_ "${QW^^}")|$(jq_ '",".join(m["name"] for m in d["matches"])')"
check_eq "$T: ... its start too" "200|$N1" "$(find_ "thandeka qw")|$(jq_ '",".join(m["msisdn"] for m in d["matches"] if "Qwabe" in m["name"])')"
check_eq "$T: under three characters only the start of a name matches" "200|True|False" \
	"$(find_ "Th")|$(jq_ 'any(m["msisdn"] == "'$N1'" for m in d["matches"])')|$(find_ "qw" >/dev/null; jq_ 'any(m["msisdn"] == "'$N1'" for m in d["matches"])')"
check_eq "$T: a number finds its customer, with the name" "200|$N2|Sipho Qwabe$((S % 1000))" \
	"$(find_ "0${N2#+27}")|$(jq_ 'd["matches"][0]["msisdn"]')|$(jq_ 'd["matches"][0]["name"]')"
check_eq "$T: LIKE's wildcards are matched as themselves" "200|0" "$(find_ "%%%")|$(jq_ 'len(d["matches"])')"
check_eq "$T: an empty search is 400; a 41-character name 400" "400 400" "$(find_ "  ") $(find_ "$(printf 'y%.0s' $(seq 1 41))")"
check_eq "$T: a fulfilment user may not search customers (403)" "403" \
	"$(login "fulfilment$S" "$PW" "$T_TMP/ful2" >/dev/null; find_ "$QW" "$T_TMP/ful2")"
# (which index the planner takes for a part of a name depends on the table's statistics, which
# the whole suite changes: the trigram index is checked to exist and be valid)
check_eq "$T: the name search has its trigram index, the prefix search can use the btree" "True|True" \
	"$(psql_val "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'customers_name_trgm'" | sed 's/^t$/True/')|$(psql -X -qtA -c "SET enable_seqscan = off" -c "EXPLAIN SELECT msisdn FROM customers WHERE name IS NOT NULL AND lower(name) LIKE 'th%'" | grep -q customers_name_lower && echo True)"

# ---- static files ----
check_eq "$T: the stylesheet is served" "200" "$(code /admin/static/office.css)"
check_eq "$T: nothing outside web/ (../)" "404" "$(code /admin/static/..%2F..%2FREADME.md)"

# ---- the CRM pages: Segments, Campaigns, Funnel (office_crm.c), on spazactl's statements ----
ctl() { "$SPAZACTL" -c "$SPAZA_CFG" "$@"; }
check_eq "$T: care's menu has the CRM pages" "True" \
	"$(code /admin/api/me -b "$T_TMP/care" >/dev/null; jq_ '{"segments", "campaigns", "funnel"} <= {p["path"] for p in d["pages"]}')"
check_eq "$T: fulfilment is refused the segments, campaigns and funnel (403)" "403 403 403" \
	"$(code /admin/api/segments -b "$T_TMP/ful") $(code /admin/api/campaigns -b "$T_TMP/ful") $(code '/admin/api/funnel?since=2020-01-01' -b "$T_TMP/ful")"
check_eq "$T: ... and the pages themselves (403)" "403" "$(code /admin/segments -b "$T_TMP/ful")"
check_eq "$T: the segments page is served to care" "200" "$(code /admin/segments -b "$T_TMP/care")"
check_eq "$T: the named segments; care may not define" "200|True|False" \
	"$(code /admin/api/segments -b "$T_TMP/care")|$(jq_ '[n["segment"] for n in d["named"]] == ["top", "average", "once-off", "new", "lapsed", "none"]')|$(jq_ 'd["may_define"]')"
named_api=$(jq_ '" ".join("%s=%d" % (n["segment"], n["customers"]) for n in d["named"])')
named_ctl=$(ctl segments list | awk 'NF >= 2 && $1 ~ /^(top|average|once-off|new|lapsed|none)$/ {printf "%s%s=%s", (n++ ? " " : ""), $1, $2}')
check_eq "$T: ... with the counts of spazactl segments list" "$named_ctl" "$named_api"
SEG=zu-drinks-$S
check_eq "$T: care may not define a segment (403)" "403" \
	"$(post "$T_TMP/care" "$CARE_CSRF" /admin/api/segments/define "{\"name\": \"$SEG\", \"rule\": \"lang zu\"}")"
check_eq "$T: a define without the CSRF token is refused (403)" "403" \
	"$(code /admin/api/segments/define -b "$JAR" -H 'Content-Type: application/json' --data "{\"name\": \"$SEG\", \"rule\": \"lang zu\"}")"
check_eq "$T: a bad rule is 400 with the parser's reason" "400|bad rule: lang is en, zu or af, not \"xx\"" \
	"$(post "$JAR" "$OWNER_CSRF" /admin/api/segments/define "{\"name\": \"$SEG\", \"rule\": \"lang xx\"}")|$(jq_ 'd["error"]')"
check_eq "$T: a named segment's name is refused (400)" "400" \
	"$(post "$JAR" "$OWNER_CSRF" /admin/api/segments/define '{"name": "top", "rule": "lang zu"}')"
check_eq "$T: nothing was defined" "0" "$(psql_val "SELECT count(*) FROM crm_segments WHERE name = '$SEG'")"
ZU=$(psql_val "SELECT count(*) FROM customers WHERE lang = 'zu' AND NOT opt_out")
check_eq "$T: the owner defines a rule segment: stored canonical, its members counted" \
	"200|True|lang zu and opted-in|$ZU" \
	"$(post "$JAR" "$OWNER_CSRF" /admin/api/segments/define "{\"name\": \"$SEG\", \"rule\": \"opted-in and lang zu\"}")|$(jq_ 'd["created"]')|$(jq_ 'd["rule"]')|$(jq_ 'd["members"]["total"]')"
check_eq "$T: ... spazactl segments show gives the same rule and count" "segment $SEG: lang zu and opted-in|members: $ZU" \
	"$(ctl segments show "$SEG" | sed -n '1p')|$(ctl segments show "$SEG" | sed -n '2s/ (.*//p')"
check_eq "$T: ... audited under the owner's login" "1" \
	"$(psql_val "SELECT count(*) FROM audit_log WHERE source = 'api' AND who = 'owner$S' AND action LIKE 'segments define%' AND subject = 'segment $SEG'")"
check_eq "$T: ... in the list with its live count" "200|[$ZU]" \
	"$(code /admin/api/segments -b "$T_TMP/care")|$(jq_ "[r['members']['total'] for r in d['rules'] if r['name'] == '$SEG']")"
check_eq "$T: a segment's first members, as spazactl segments members lists them" \
	"200|$(ctl segments members "$SEG" --limit 20 | awk '$1 ~ /^\+/ {print $1}' | paste -sd ' ')" \
	"$(code "/admin/api/segments/members?name=$SEG" -b "$T_TMP/care")|$(jq_ '" ".join(m["msisdn"] for m in d["members"])')"
check_eq "$T: an unknown segment is 404" "404" "$(code "/admin/api/segments/members?name=nosuch$S" -b "$T_TMP/care")"

CAMP=bread-$S
cbody="{\"name\": \"$CAMP\", \"text_en\": \"Hi {name}, fresh bread R15: {offer}\", \"text_zu\": \"Sawubona {name}, isinkwa R15: {offer}\", \"offer\": \"2 for R28\", \"segment\": \"$SEG\", \"at\": \"2999-01-01 09:00\", \"keyword\": \"BREAD$((S % 1000))\"}"
check_eq "$T: care may not create a campaign (403)" "403" "$(post "$T_TMP/care" "$CARE_CSRF" /admin/api/campaigns/create "$cbody")"
check_eq "$T: a create without the CSRF token is refused (403)" "403" \
	"$(code /admin/api/campaigns/create -b "$JAR" -H 'Content-Type: application/json' --data "$cbody")"
long=$(printf 'x%.0s' $(seq 150))
check_eq "$T: a text longer than one SMS is refused with the linter's reason (400)" "400|True" \
	"$(post "$JAR" "$OWNER_CSRF" /admin/api/campaigns/create "{\"name\": \"$CAMP\", \"text_en\": \"$long\", \"rule\": \"lang zu\", \"at\": \"now\"}")|$(jq_ '"text_en does not fit one SMS" in d["error"] and "too many" in d["error"]')"
check_eq "$T: a bad rule is refused with its reason (400)" "400|bad rule: lang is en, zu or af, not \"xx\"" \
	"$(post "$JAR" "$OWNER_CSRF" /admin/api/campaigns/create "{\"name\": \"$CAMP\", \"text_en\": \"Hi\", \"rule\": \"lang xx\", \"at\": \"now\"}")|$(jq_ 'd["error"]')"
check_eq "$T: nothing was created" "0" "$(psql_val "SELECT count(*) FROM campaigns WHERE name = '$CAMP'")"
check_eq "$T: the owner creates a campaign (a draft, the segment's rule fixed)" "200|draft|lang zu and opted-in" \
	"$(post "$JAR" "$OWNER_CSRF" /admin/api/campaigns/create "$cbody")|$(jq_ 'd["state"]')|$(jq_ 'd["rule"]')"
check_eq "$T: ... the same name twice is refused (409)" "409" "$(post "$JAR" "$OWNER_CSRF" /admin/api/campaigns/create "$cbody")"
check_eq "$T: ... audited under the owner's login" "1" \
	"$(psql_val "SELECT count(*) FROM audit_log WHERE source = 'api' AND who = 'owner$S' AND action LIKE 'campaign create%' AND subject = 'campaign $CAMP'")"
check_eq "$T: ... in the list (care reads it) with its figures; care may not change it" "200|draft|0|False" \
	"$(code /admin/api/campaigns -b "$T_TMP/care")|$(jq_ "[c for c in d['campaigns'] if c['name'] == '$CAMP'][0]['state']")|$(jq_ "[c for c in d['campaigns'] if c['name'] == '$CAMP'][0]['report']['sent']")|$(jq_ 'd["may_change"]')"
check_eq "$T: ... spazactl sees it" "campaign $CAMP (draft)" "$(ctl campaign report "$CAMP" | head -1)"
ctl campaign preview "$CAMP" > "$T_TMP/pv"
check_eq "$T: the preview: the audience now and each language linted, as spazactl campaign preview" "200|True|True|True" \
	"$(code "/admin/api/campaigns/preview?name=$CAMP" -b "$T_TMP/care")|$(jq_ "('audience now: %d ' % d['audience']['total']) in open('$T_TMP/pv').read()")|$(jq_ "all(t['ok'] and ('%s: ok: %s' % (t['lang'], t['why'])) in open('$T_TMP/pv').read() for t in d['texts'])")|$(jq_ "d['texts'][2]['text'].startswith('Hi WWWW') and d['texts'][2]['text'].endswith('Antwoord STOP om uit te teken')")"
check_eq "$T: care may not start it (403)" "403" \
	"$(post "$T_TMP/care" "$CARE_CSRF" /admin/api/campaigns/state "{\"name\": \"$CAMP\", \"action\": \"start\"}")"
check_eq "$T: pausing a draft is refused (409)" "409" \
	"$(post "$JAR" "$OWNER_CSRF" /admin/api/campaigns/state "{\"name\": \"$CAMP\", \"action\": \"pause\"}")"
check_eq "$T: the owner starts it: the audience fixed" "200|running|$ZU" \
	"$(post "$JAR" "$OWNER_CSRF" /admin/api/campaigns/state "{\"name\": \"$CAMP\", \"action\": \"start\"}")|$(jq_ 'd["state"]')|$(jq_ 'd["recipients"]')"
check_eq "$T: ... pauses and resumes it" "200|paused|200|running" \
	"$(post "$JAR" "$OWNER_CSRF" /admin/api/campaigns/state "{\"name\": \"$CAMP\", \"action\": \"pause\"}")|$(jq_ 'd["state"]')|$(post "$JAR" "$OWNER_CSRF" /admin/api/campaigns/state "{\"name\": \"$CAMP\", \"action\": \"resume\"}")|$(jq_ 'd["state"]')"
check_eq "$T: ... each audited" "3" \
	"$(psql_val "SELECT count(*) FROM audit_log WHERE source = 'api' AND who = 'owner$S' AND action ~ '^campaign (start|pause|resume)' AND subject = 'campaign $CAMP'")"
check_eq "$T: ... the list's figures are campaign report's" "$(ctl campaign report "$CAMP" | awk '$1 == "recipients" {print $2}')" \
	"$(code /admin/api/campaigns -b "$JAR" >/dev/null; jq_ "[c for c in d['campaigns'] if c['name'] == '$CAMP'][0]['report']['recipients']")"

# the funnel: a dialogue that ends, then the page's figures against spazactl's for the same since
FX=$(t_phone 45); fs=$(t_sid)
for t in "" 5 5*3; do ussd "$fs" "$FX" "$t" >/dev/null; done
wait_for 30 sh -c "[ \"\$(psql -X -qtAc \"SELECT count(*) FROM ussd_sessions s JOIN customers c ON c.id = s.customer_id WHERE c.msisdn = '$(e164 "$FX")'\")\" -ge 1 ]"
FSINCE=$(psql_val "SELECT to_char(now() - interval '1 day', 'YYYY-MM-DD')")
check_eq "$T: a since that is no date is 400" "400" "$(code '/admin/api/funnel?since=yesterday' -b "$T_TMP/care")"
check_eq "$T: the funnel's CSV download is spazactl funnel --csv, byte for byte" "200|$(ctl funnel --since "$FSINCE" --csv | md5sum)" \
	"$(code "/admin/api/funnel?since=$FSINCE&csv=1" -b "$T_TMP/care")|$(md5sum < "$T_TMP/body")"
check_has "$T: ... as a download" "Content-Disposition: attachment" "$(tr -d '\r' < "$T_TMP/head")"
check_eq "$T: ... and the JSON's figures are the same rows" "200|$(ctl funnel --since "$FSINCE" --csv | tail -n +2 | cut -d, -f1-13 | paste -sd ' ')" \
	"$(code "/admin/api/funnel?since=$FSINCE" -b "$T_TMP/care")|$(jq_ "' '.join(','.join(str(r[k]) for k in ['screen', 'front', 'lang', 'segment', 'version', 'entries', 'end', 'timeout', 'abandon', 'error', 'back', 'ordered', 'paid']) for r in d['rows'])")"
check_true "$T: ... with the dialogue's screens in it" "no rows" [ "$(jq_ 'sum(r["entries"] for r in d["rows"])')" -ge 3 ]
check_eq "$T: the funnel by menu version alone is spazactl funnel --by version, byte for byte" \
	"200|$(ctl funnel --since "$FSINCE" --by version --csv | md5sum)" \
	"$(code "/admin/api/funnel?since=$FSINCE&by=version&csv=1" -b "$T_TMP/care")|$(md5sum < "$T_TMP/body")"
check_eq "$T: a by that names no dimension is 400" "400" "$(code "/admin/api/funnel?since=$FSINCE&by=colour" -b "$T_TMP/care")"

# ---- role change, disable, logout, lockout ----
"$SPAZACTL" -c "$SPAZA_CFG" staff role "finance$S" fulfilment >/dev/null
check_eq "$T: a role change ends the account's sessions" "401" "$(code /admin/api/me -b "$T_TMP/fin")"
"$SPAZACTL" -c "$SPAZA_CFG" staff disable "care$S" >/dev/null
check_eq "$T: a disabled account cannot log in" "401" "$(login "care$S" "$PW" "$T_TMP/care")"
check_eq "$T: logout ends the session" "200|401" \
	"$(code /admin/api/logout -b "$JAR" -H "X-CSRF-Token: $OWNER_CSRF" -H 'Content-Type: application/json' --data '{}')|$(code /admin/api/me -b "$JAR")"
for i in 1 2 3 4 5; do login "till$S" "wrong-$i-password" "$T_TMP/x" >/dev/null; done
check_eq "$T: five wrong passwords in a row lock the account, even for the right one (429)" "429" \
	"$(login "till$S" "$PW" "$T_TMP/x")"
check_match "$T: ... with a Retry-After" 'Retry-After: [0-9]+' "$(cat "$T_TMP/head")"
stats=$("$SPAZACTL" -c "$SPAZA_CFG" vty "show stats" 2>/dev/null)
check_true "$T: refusals are counted (office:csrf-refused)" "counter not above 0" \
	[ "$(stat_count "Back office changes refused 403: no or a wrong CSRF token" "$stats")" -ge 2 ]

# ---- the per-address login throttle, on a daemon of its own (its table is its own: the
# suite's daemon keeps serving this address's logins) ----
own_up office_throttle || { echo "own spazad did not start (log: $OWN_LOG)" >&2; exit 1; }
codes=""
for i in $(seq 1 61); do
	codes+="$(curl -s --noproxy '*' --max-time 20 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
		--data '{"login": "nobody", "password": "x"}' "$OWN_ADMIN_URL/admin/api/login") "
done
check_eq "$T: 60 login attempts from one address are answered, the 61st is throttled (429)" "60 401|1 429" \
	"$(tr ' ' '\n' <<<"$codes" | grep . | sort | uniq -c | awk '{print $1, $2}' | paste -sd '|')"
check_eq "$T: ... and counted (office:login-throttled)" "1" \
	"$(stat_count "Back office logins refused: too many attempts from one address" "$("$SPAZACTL" -c "$OWN_CFG" vty "show stats" 2>/dev/null)")"
own_down office_throttle
