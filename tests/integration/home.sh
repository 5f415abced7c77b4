# The home screen's lines (issue 13; `crm home-lines 1`, menus reorder: and offers:): a customer
# with an order is offered "Reorder <that order>", which makes a new basket of its lines and ends
# at the payment choice, the new order the same lines; a customer in a named segment gets that
# segment's offer, which opens its product or category; neither for a customer without them. What
# the screen shows comes with the customer record at first contact and follows an order placed or
# a first order paid in the dialogue, without a statement per hop. The transcripts in
# tests/transcripts/home/ show the screen in English, isiZulu and Afrikaans.
source "$(dirname "$0")/lib.sh"

ctl() { "$SPAZACTL" -c "$SPAZA_CFG" "$@"; }
home_cfg() { printf 'enable\nconfigure terminal\nspaza\ncrm home-lines %s\nend\nshow running-config\n' "$1" |
	ctl vty 2>&1; }
sku() { psql_val "SELECT id FROM products WHERE name = '$1'"; }
lines_of() { psql_val "SELECT string_agg(product_id || 'x' || qty, ',' ORDER BY line) FROM order_items WHERE order_id = $1"; }
lookups() { stat_count "Customer records fetched or created in the database" "$(printf 'show stats\n' | ctl vty 2>&1)"; }

# plant PHONE LANG NAME: a customer as first contact and staff would make them (no dial yet) -> id
plant() {
	local id
	id=$(psql_val "INSERT INTO customers (msisdn, lang) VALUES ('$(e164 "$1")', '$2') RETURNING id" | head -1)
	[ -z "$3" ] || ctl customer set "$(e164 "$1")" "name=$3" >/dev/null
	echo "$id"
}
# bought CUSTOMER DAYS-AGO "SKU,SKU" "QTY,QTY" [unpaid]: an order of those lines with a delivery
# address, placed through the basket's own function and paid on credit through the ledger's,
# that many days ago -> its id
bought() {
	local o
	o=$(psql_val "SELECT order_id FROM spaza_basket_checkout($1, 'it-home-$$-$RANDOM$RANDOM', ARRAY[$3], ARRAY[$4],
		'12 Vilakazi Street', NULL, 100)")
	[ "${5:-}" = unpaid ] || psql -X -qtA >/dev/null <<-SQL
		SELECT outcome FROM spaza_credit_set_limit($1, 100000000);
		SELECT outcome FROM spaza_credit_hold('it-home-hold-$o', $1, $o);
		SELECT outcome FROM spaza_credit_post($o);
		UPDATE orders SET created_at = now() - interval '$2 days', paid_at = now() - interval '$2 days' WHERE id = $o;
	SQL
	echo "$o"
}

COKE=$(sku "Coke 2L") BREAD=$(sku "White bread 700g") MILK=$(sku "Milk 1L") SUGAR=$(sku "Sugar 2.5kg")
OIL=$(sku "Cooking oil 2L") TEA=$(sku "Rooibos tea 80s")
OPTS="1. Browse"$'\n'"2. My orders"$'\n'"3. Pay"$'\n'"4. Language"$'\n'"5. Help"$'\n'"6. Basket"$'\n'"7. My account"

# ---- the histories: the transcripts' three (tests/transcripts/home/) and four of this test's
T1=$(plant 0829906101 en "Thandi Nkosi")	# once-off: one order of three lines, 45 days ago
bought "$T1" 45 "$COKE,$BREAD,$MILK" "1,2,1" >/dev/null
T2=$(plant 0829906201 zu "Nomvula")		# new: one order, 3 days ago
bought "$T2" 3 "$BREAD" "1" >/dev/null
T3=$(plant 0829906301 af "")			# lapsed: two orders, the latest 120 days ago
bought "$T3" 150 "$TEA" "1" >/dev/null
bought "$T3" 120 "$SUGAR,$OIL" "1,1" >/dev/null
PT=$(t_phone 46) PA=$(t_phone 46) PN=$(t_phone 46) PU=$(t_phone 46)
CT=$(plant "$PT" en "")				# top: ten orders of R250 and more lately; tea in most
for d in 60 50 40 30 20 10 8 5 3 1; do bought "$CT" "$d" "$TEA,$OIL" "3,2" >/dev/null; done
bought "$CT" 0 "$MILK" "1" >/dev/null
CA=$(plant "$PA" en "Sipho")			# average: three orders, sugar in two; the latest unpaid
bought "$CA" 80 "$SUGAR" "1" >/dev/null
bought "$CA" 40 "$SUGAR,$BREAD" "2,1" >/dev/null
bought "$CA" 0 "$COKE" "1" unpaid >/dev/null
CU=$(plant "$PU" en "")				# no paid order: an unpaid one, no segment
LAST_U=$(bought "$CU" 0 "$MILK,$BREAD" "1,1" unpaid)
ctl segments recompute >/dev/null	# scored by when they were paid, not now
check_eq "the segments as the plants mean them: once-off, new, lapsed, top, average" "once-off new lapsed top average" \
	"$(for c in "$T1" "$T2" "$T3" "$CT" "$CA"; do psql_val "SELECT segment FROM customer_rfm WHERE customer_id = $c"; done |
		tr '\n' ' ' | sed 's/ $//')"

check_match "show stats counts the customer lookups (what the in-memory checks below compare)" '^[0-9]+$' "$(lookups)"

# ---- off (the default): the home screen as before, whatever the customer has
check_eq "crm home-lines off: no reorder, no offer" "CON Hi Sipho"$'\n'"Welcome to Spaza"$'\n'"$OPTS" "$(ussd "$(t_sid)" "$PA" "")"
at_exit 'home_cfg 0 >/dev/null'
check_has "crm home-lines 1 on the VTY is in the running config (written back)" " crm home-lines 1" "$(home_cfg 1)"

# ---- the transcripts: the screen in three languages, reorder to the payment choice, the offers
out=$("$SPAZA_TOP/tools/spaza-phone" -u "$SPAZA_URL/ussd/at" -s "$SPAZA_TOP"/tests/transcripts/home/*.ussd 2>&1)
check_eq "the home-line transcripts pass in English, isiZulu and Afrikaans" 3 "$(grep -c '^PASS' <<<"$out")"
[ "$(grep -c '^PASS' <<<"$out")" = 3 ] || echo "$out" | grep -v '^PASS' >&2

# ---- top and average: their offers, and where they lead
check_eq "a top customer: the latest order (one line) and the thank-you cross-sell" \
	"CON Welcome to Spaza"$'\n'"$OPTS"$'\n'"8. Reorder Milk 1L"$'\n'"9. Thank you! See Household" "$(ussd "$(t_sid)" "$PT" "")"
check_match "... which opens Household's products" "^CON Household \\(1/[0-9]\\)"$'\n'"1\\. Dish liquid 750ml R32\\.99" \
	"$(ussd "$(t_sid)" "$PT" "9")"
check_eq "an average customer, greeted: the latest order, unpaid too, and the special on what they buy most" \
	"CON Hi Sipho"$'\n'"$OPTS"$'\n'"8. Reorder Coke 2L"$'\n'"9. This week's special: Sugar 2.5kg" "$(ussd "$(t_sid)" "$PA" "")"
check_eq "... which opens that product" "CON Sugar 2.5kg"$'\n'"Price: R54.99"$'\n'"1. Buy"$'\n'"2. Add to basket"$'\n'"0. Back" \
	"$(ussd "$(t_sid)" "$PA" "9")"
check_match "... and buys it" "^END Order #[0-9]+ placed\\. Pay via option 3\\.\$" "$(ussd "$(t_sid)" "$PA" "9*1*3*1")"
check_eq "the order placed is the latest on the next dial, with no lookup (in memory)" \
	"CON Hi Sipho"$'\n'"$OPTS"$'\n'"8. Reorder Sugar 2.5kg"$'\n'"9. This week's special: Sugar 2.5kg" \
	"$(before=$(lookups); ussd "$(t_sid)" "$PA" ""; [ "$(lookups)" = "$before" ] || echo "(looked up again)")"

# ---- no paid order: the reorder line alone; reorder lands a new order of the same lines
check_eq "a customer with an unpaid order and no segment: reorder, no offer" \
	"CON Welcome to Spaza"$'\n'"$OPTS"$'\n'"8. Reorder Milk 1L +1" "$(ussd "$(t_sid)" "$PU" "")"
check_eq "... 9 is not a choice" "CON Invalid choice."$'\n'"$OPTS"$'\n'"8. Reorder Milk 1L +1" "$(ussd "$(t_sid)" "$PU" "9")"
S=$(t_sid)
check_eq "reorder: the order's lines as a new basket at today's prices" \
	"CON New basket: R36.48"$'\n'"1. Check out"$'\n'"2. View items" "$(ussd "$S" "$PU" "8")"
check_eq "... checked out to last time's address" "CON Deliver to 12 Vilakazi Street?"$'\n'"1. Yes"$'\n'"2. Type another"$'\n'"0. Back" \
	"$(ussd "$S" "$PU" "8*1*2")"
r=$(ussd "$S" "$PU" "8*1*2*1*1")
check_match "... placed" "^CON Order #[0-9]+ placed: R36\\.48\\."$'\n'"1\\. Pay now"$'\n'"2\\. Pay later\$" "$r"
NEW=$(sed -nE 's/^CON Order #([0-9]+) placed.*/\1/p' <<<"$r")
check_eq "... at the payment choice" "CON Pay R36.48 for order #$NEW with:" "$(ussd "$S" "$PU" "8*1*2*1*1*1" | head -1)"
check_eq "the new order has the same lines as the one reordered" "$(lines_of "$LAST_U")" "$(lines_of "${NEW:-0}")"
check_true "... and is another order" "the same number" test "${NEW:-0}" != "$LAST_U"

# ---- a first paid order in the dialogue: "new" at once, its product the one bought
ctl credit set-limit "$(e164 "$PU")" 1000 >/dev/null
r=$(ussd "$S" "$PU" "8*1*2*1*1*1*2*1")
check_match "paid from credit in the same dialogue" "^END Order #$NEW \\(R36\\.48\\) paid from your credit\\." "$r"
check_eq "the next dial offers the new customer's cross-sell, without a lookup" \
	"CON Welcome to Spaza"$'\n'"$OPTS"$'\n'"8. Reorder Milk 1L +1"$'\n'"9. New here? Try our Drinks" \
	"$(before=$(lookups); ussd "$(t_sid)" "$PU" ""; [ "$(lookups)" = "$before" ] || echo "(looked up again)")"
check_eq "... as the database scores them" "new" "$(psql_val "SELECT segment FROM customer_rfm WHERE customer_id = $CU")"

# ---- nothing bought: nothing added
P0=$(t_phone 46)
check_eq "a new number: the home screen as before" "CON Welcome to Spaza"$'\n'"$OPTS" "$(ussd "$(t_sid)" "$P0" "")"
check_eq "... and 8 is no choice" "CON Invalid choice."$'\n'"Welcome to Spaza"$'\n'"$OPTS" "$(ussd "$(t_sid)" "$P0" "8")"
