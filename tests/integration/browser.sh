# The back office in a real browser (doc/back-office.md): playwright-core driving Debian's
# chromium headless runs tests/browser/*.js against the suite's spazad: the shell (login, logout,
# the menu by role, every page on a phone-sized screen), roles refused, a change without its
# CSRF token refused, one whole story from a USSD order to the customer's SMS through the care,
# till, finance and fulfilment pages, the web phone and the catalogue check; cash on delivery
# confirmed on the till page and on the board (cod.js). Screenshots of
# every page are kept in var/test/screenshots/. scripts/lib.sh (spaza_browser_deps) installs
# chromium and playwright-core; without them this test says SKIP and why.
source "$(dirname "$0")/lib.sh"
T=browser
NODE_MODULES=$VAR/browser/node_modules
if ! command -v node >/dev/null || [ ! -x "${SPAZA_CHROMIUM:-/usr/bin/chromium}" ] || [ ! -d "$NODE_MODULES/playwright-core" ]; then
	echo "SKIP: $T: no chromium, node or playwright-core (scripts/lib.sh spaza_browser_deps installs them; it could not here)"
	exit 0
fi
SHOTS=$VAR/test/screenshots
mkdir -p "$SHOTS"

S=b$$$RANDOM
PW=browser-pass-$S
for r in owner care fulfilment finance; do
	echo "$PW" | "$SPAZACTL" -c "$SPAZA_CFG" staff add "$r$S" --role "$r" --password-stdin >/dev/null ||
		{ echo "spazactl staff add $r failed" >&2; exit 1; }
done
SHOP="Corner shop $S"
"$SPAZACTL" -c "$SPAZA_CFG" retailer add "$SHOP" >/dev/null || { echo "spazactl retailer add failed" >&2; exit 1; }
RET=$(psql_val "SELECT id FROM retailers WHERE name = '$SHOP'")
echo "$PW" | "$SPAZACTL" -c "$SPAZA_CFG" staff add "till$S" --role retailer --retailer "$RET" --password-stdin >/dev/null
PHONE=$(t_phone 74)

# care.js: a customer with an order paid on credit (through the ledger's functions, so that
# ledger check holds) and a ticket about it
CARE_MS=$(t_phone 75)
CARE_MS=+27${CARE_MS#0}
CARE_C=$(psql_val "INSERT INTO customers (msisdn) VALUES ('$CARE_MS') ON CONFLICT (msisdn) DO UPDATE SET lang = customers.lang RETURNING id")
CARE_P=$(psql_val "SELECT id || ' ' || price_cents FROM products WHERE active ORDER BY id LIMIT 1")
psql_val "SELECT spaza_credit_set_limit($CARE_C, 10000000)" >/dev/null
CARE_O=$(psql_val "INSERT INTO orders (customer_id, product_id, qty, unit_cents, total_cents, idem_key, delivery_address, delivery_note)
	VALUES ($CARE_C, ${CARE_P% *}, 1, ${CARE_P#* }, ${CARE_P#* }, 'browser-care-$S', '12 Vilakazi St, Orlando West', 'blue gate') RETURNING id")
psql_val "SELECT outcome FROM spaza_credit_hold('browser:$S:$CARE_O', $CARE_C, $CARE_O);
	SELECT outcome FROM spaza_credit_post($CARE_O)" >/dev/null
CARE_T=$("$SPAZACTL" -c "$SPAZA_CFG" care open "$CARE_MS" --order "$CARE_O" not_delivered "still waiting $S" |
	sed -n 's/^ticket #\([0-9]*\) .*/\1/p')
export SPAZA_CARE_MSISDN=$CARE_MS SPAZA_CARE_ORDER=$CARE_O SPAZA_CARE_TICKET=$CARE_T
# edits.js: the demo catalogue with one stock changed, to import; two customers with one surname
DEMO=$SPAZA_TOP/menus/demo-catalog.csv
EDIT_STOCK=$((500000 + RANDOM))
sed -e "s/^105,\([^,]*\),\([^,]*\),\([^,]*\),[0-9]*\$/105,\1,\2,\3,$EDIT_STOCK/" "$DEMO" > "$T_TMP/edit.csv"
SURNAME="Mabaso$((RANDOM % 1000))x"
EDIT_MS1=$(psql_val "INSERT INTO customers (msisdn, name) VALUES ('$(e164 "$(t_phone 75)")', 'Lindiwe $SURNAME') RETURNING msisdn")
EDIT_MS2=$(psql_val "INSERT INTO customers (msisdn, name) VALUES ('$(e164 "$(t_phone 76)")', 'Bongani $SURNAME') RETURNING msisdn")
export SPAZA_EDIT_CSV=$T_TMP/edit.csv SPAZA_EDIT_SKU=105 SPAZA_EDIT_STOCK=$EDIT_STOCK SPAZA_EDIT_SURNAME=$SURNAME
export SPAZA_EDIT_MSISDN1=$EDIT_MS1 SPAZA_EDIT_MSISDN2=$EDIT_MS2

# cod.js: two orders of a customer of its own to be paid cash on delivery, one for a retailer's
# till page (a shop and user of their own, so the story's takings are the story's), one for the
# board; the amount due as the pages write it
COD_SHOP="COD corner $S"
COD_RET=$(psql_val "INSERT INTO retailers (name) VALUES ('$COD_SHOP') RETURNING id")
echo "$PW" | "$SPAZACTL" -c "$SPAZA_CFG" staff add "tillcod$S" --role retailer --retailer "$COD_RET" --password-stdin >/dev/null
COD_MS=$(t_phone 76)
COD_MS=+27${COD_MS#0}
COD_C=$(psql_val "INSERT INTO customers (msisdn) VALUES ('$COD_MS') ON CONFLICT (msisdn) DO UPDATE SET lang = customers.lang RETURNING id")
cod_order() {
	local o
	o=$(psql_val "INSERT INTO orders (customer_id, product_id, qty, unit_cents, total_cents, idem_key)
		VALUES ($COD_C, ${CARE_P% *}, 1, ${CARE_P#* }, ${CARE_P#* }, 'browser-cod-$S-$1') RETURNING id")
	psql_val "SELECT outcome FROM spaza_cod_choose($COD_C, $o)" >/dev/null
	echo "$o"
}
COD_O=$(cod_order till) COD_B=$(cod_order board)
COD_DUE=$(printf 'R%d.%02d' $((${CARE_P#* } / 100)) $((${CARE_P#* } % 100)))
export SPAZA_COD_ORDER=$COD_O SPAZA_COD_BOARD_ORDER=$COD_B SPAZA_COD_DUE=$COD_DUE SPAZA_COD_MSISDN=$COD_MS
export NODE_PATH=$NODE_MODULES SPAZA_SCREENSHOTS=$SHOTS SPAZA_STAFF_PASSWORD=$PW SPAZA_STAFF_SUFFIX=$S
export SPAZA_STORY_PHONE=$PHONE SPAZA_RETAILER_NAME=$SHOP SPAZA_BAD_CSV=$SPAZA_TOP/tests/integration/catalog_import_bad.csv
for js in "$SPAZA_TOP"/tests/browser/*.js; do
	[ "$(basename "$js")" = lib.js ] && continue
	out=$(cd "$SPAZA_TOP/tests/browser" && timeout 300 node "$js" 2>"$T_TMP/node.err")
	rc=$?
	grep -E '^(PASS|FAIL)' <<<"$out"
	[ "$rc" = 0 ] || grep -q '^FAIL' <<<"$out" ||
		echo "FAIL: $T: $(basename "$js") exited $rc: $(oneline "$(tail -5 "$T_TMP/node.err")")"
	[ "$(basename "$js")" = story.js ] && ORDER=$(sed -n 's/^ORDER //p' <<<"$out")
	[ "$(basename "$js")" = edits.js ] && KEYS=$(sed -n 's/^RETAILER_KEYS //p' <<<"$out")
done

# what edits.js did, as the database has it; then the suite's catalogue again
check_eq "$T: the page's import is in the database and audited under the owner" "$EDIT_STOCK|1" \
	"$(psql_val "SELECT stock FROM products WHERE id = 105")|$(psql_val "SELECT count(*) FROM audit_log WHERE who = 'owner$S' AND action = 'catalog import upload.csv' AND after->>'sha256' = '$(sha256sum < "$T_TMP/edit.csv" | cut -c1-64)'")"
check_eq "$T: the price change and its undoing are audited with before and after" "1849|$(psql_val "SELECT price_cents FROM products WHERE id = 101")" \
	"$(psql_val "SELECT string_agg(after->>'price_cents', '|' ORDER BY id) FROM audit_log WHERE who = 'owner$S' AND subject = 'product 101'")"
check_eq "$T: the retailer's keys: the first revoked, the second active, audited under finance" "${KEYS% *} revoked|${KEYS#* } active|2" \
	"$(psql_val "SELECT string_agg(k.key_id || CASE WHEN k.revoked_at IS NULL THEN ' active' ELSE ' revoked' END, '|' ORDER BY k.created_at)
		FROM retailer_keys k JOIN retailers r ON r.id = k.retailer_id WHERE r.name = 'Browser shop $S'")|$(psql_val "SELECT count(*) FROM audit_log WHERE who = 'finance$S' AND action IN ('retailer add', 'retailer rotate-key')")"
"$SPAZACTL" -c "$SPAZA_CFG" catalog import "$DEMO" >/dev/null

# what care.js did, as the database has it
check_eq "$T: the Care page's reply and resolve, and the 360's refund and note, are audited under their logins" \
	"care reply care$S|care resolve care$S|customer note care$S|refund finance$S" \
	"$(psql_val "SELECT string_agg(action || ' ' || who, '|' ORDER BY action) FROM audit_log WHERE source = 'api' AND result = 'ok'
		AND who LIKE '%$S' AND (subject = 'ticket $CARE_T' OR subject = 'order $CARE_O' OR (action = 'customer note' AND subject = 'customer $CARE_C'))")"
check_eq "$T: the refund is in the ledger once" "1" "$(psql_val "SELECT count(*) FROM refund_requests WHERE idem_key LIKE 'office:refund:$CARE_O:%'")"

# what the story did, as the database has it
if [ -n "${ORDER:-}" ]; then
	check_eq "$T: the shipped order's SMS is queued for the customer" "1" \
		"$(psql_val "SELECT count(*) FROM sms_messages WHERE order_id = $ORDER AND kind = 'order_status' AND order_status = 'shipped'")"
	check_eq "$T: the till page's payment is one till payment of the retailer's" "1|paid" \
		"$(psql_val "SELECT count(*) || '|' || min(t.status) FROM till_payments t JOIN slips s ON s.id = t.slip_id WHERE s.order_id = $ORDER AND t.retailer_id = $RET")"
	check_eq "$T: every change is in the audit log under its staff login" "fulfilment$S till$S" \
		"$(psql_val "SELECT string_agg(DISTINCT who, ' ') FROM audit_log WHERE source = 'api' AND (subject = 'order $ORDER' OR action LIKE 'till pay %') AND who LIKE '%$S' AND result = 'ok'")"
fi
# what cod.js did, as the database has it
check_eq "$T: the till page's cash on delivery is one posting, the retailer's cash" "1|$COD_RET|till_page|paid" \
	"$(psql_val "SELECT (SELECT count(*) FROM ledger_txns WHERE order_id = $COD_O AND reason = 'cod_payment') || '|' ||
		c.retailer_id || '|' || c.via || '|' || o.status FROM cod_confirmations c JOIN orders o ON o.id = c.order_id WHERE c.order_id = $COD_O")"
check_eq "$T: the board's Cash received is the shop's own cash, confirmed by the login" "fulfilment$S|office|paid" \
	"$(psql_val "SELECT c.confirmed_by || '|' || c.via || '|' || o.status FROM cod_confirmations c JOIN orders o ON o.id = c.order_id WHERE c.order_id = $COD_B AND c.retailer_id IS NULL")"
check_eq "$T: ... each customer is told the order is paid; each confirmation is audited under its login" "2|tillcod$S fulfilment$S" \
	"$(psql_val "SELECT count(*) FROM sms_messages WHERE order_id IN ($COD_O, $COD_B) AND kind = 'order_status' AND order_status = 'paid'")|$(psql_val "SELECT string_agg(who, ' ' ORDER BY action DESC) FROM (SELECT DISTINCT who, action FROM audit_log WHERE source = 'api' AND result = 'ok' AND subject IN ('order $COD_O', 'order $COD_B') AND action LIKE '%cod-paid%') a")"
n=$(ls "$SHOTS"/*.png 2>/dev/null | wc -l)
check_true "$T: a screenshot of every page is kept in var/test/screenshots" "only $n screenshots" [ "$n" -ge 12 ]
