# The basket: several products in one order, changed before checkout, delivered to an
# address typed or used last time; two sessions of one customer checking out at once; a line
# out of stock named on the screen and nothing taken for the others.
source "$(dirname "$0")/lib.sh"

cust_orders() { psql_val "SELECT count(*) FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.msisdn = '$(e164 "$1")'"; }
stock() { psql_val "SELECT stock FROM products WHERE id = $1"; }
lines_of() { psql_val "SELECT string_agg(i.qty || 'x' || i.product_id, ',' ORDER BY i.line) FROM order_items i WHERE i.order_id = $1"; }

# ---- build a basket of two products, check out with a typed address and instructions
P=$(t_phone 21)
white=$(stock 101) brown=$(stock 102)
# Browse > Groceries > White bread > Add to basket > 2 > Keep shopping > Groceries > Brown bread
# > Add to basket > 3
r=$(ussd "$(t_sid)" "$P" "1*1*1*2*2*1*1*2*2*3")
check_eq "adding a second product shows the basket's total" \
	"CON Added 3 x Brown bread 700g. Basket: R85.45"$'\n'"1. Keep shopping"$'\n'"2. View basket"$'\n'"3. Check out" "$r"
S=$(t_sid)
r=$(ussd "$S" "$P" "1*1*1*2*2*1*1*2*2*3*2")
check_eq "view basket lists both lines with their totals" \
	"CON Basket R85.45"$'\n'"1. 2x White bread 700g R35.98"$'\n'"2. 3x Brown bread 700g R49.47"$'\n'"0. Back" "$r"
r=$(ussd "$S" "$P" "1*1*1*2*2*1*1*2*2*3*2*3")
check_match "a line number the basket does not have says so and repeats the list" \
	"^CON Invalid choice\."$'\n'"Basket R85\.45"$'\n'"1\. 2x White bread" "$r"
r=$(ussd "$S" "$P" "1*1*1*2*2*1*1*2*2*3*2*3*0*2*1*12 Main Rd Soweto*1*Blue gate*1")
check_match "checkout with a typed address and instructions places one order" \
	"^CON Order #[0-9]+ placed: R85\.45\."$'\n'"1\. Pay now"$'\n'"2\. Pay later\$" "$r"
id=$(sed -nE 's/^CON Order #([0-9]+) placed.*/\1/p' <<<"$r")
check_eq "the order holds both lines" "2x101,3x102" "$(lines_of "$id")"
check_eq "the order's total is the sum of its lines" 8545 "$(psql_val "SELECT total_cents FROM orders WHERE id = $id")"
check_eq "stock taken for the first line" $((white - 2)) "$(stock 101)"
check_eq "stock taken for the second line" $((brown - 3)) "$(stock 102)"
check_eq "the address and instructions are on the order" "12 Main Rd Soweto|Blue gate" \
	"$(psql_val "SELECT delivery_address || '|' || delivery_note FROM orders WHERE id = $id")"
show=$("$SPAZA_TOP/src/spazactl" -c "$SPAZA_CFG" order show "$id" 2>&1)
check_has "spazactl order show gives fulfilment the address" "deliver to: 12 Main Rd Soweto" "$show"
check_has "spazactl order show gives fulfilment the instructions" "instructions: Blue gate" "$show"
check_has "spazactl order show lists every line" "3 x Brown bread 700g" "$show"
r=$(ussd "$(t_sid)" "$P" "1*1*1*2*2*1*1*2*2*3*2*3*0*2*1*12 Main Rd Soweto*1*Blue gate*1")
check_eq "a new session with the same answers is a new order, not a replay of the first" 2 "$(cust_orders "$P")"
# Pay now goes to the existing pay flow for this order
r=$(ussd "$S" "$P" "1*1*1*2*2*1*1*2*2*3*2*3*0*2*1*12 Main Rd Soweto*1*Blue gate*1*1")
check_match "pay now offers the payment methods for the new order" "^CON Pay R85\.45 for order #$id with:" "$r"
check_eq "the replayed checkout hop made no second order in its session" 2 "$(cust_orders "$P")"

# ---- change a line, remove one, check out to the same address as last time
S=$(t_sid)
base="6*3*1*1*2*1*1*1*2*2*4*2"	# Basket > Keep shopping > White bread x1, Brown bread x4 > View basket
r=$(ussd "$S" "$P" "$base")
check_eq "the basket of a new session starts empty and holds what was added" \
	"CON Basket R83.95"$'\n'"1. 1x White bread 700g R17.99"$'\n'"2. 4x Brown bread 700g R65.96"$'\n'"0. Back" "$r"
r=$(ussd "$S" "$P" "$base*1*1*5")
check_eq "changing a line's quantity shows the new total" \
	"CON Changed. Basket: R155.91"$'\n'"1. View items"$'\n'"2. Check out" "$r"
r=$(ussd "$S" "$P" "$base*1*1*5*1*2*2")
check_eq "removing a line shows what is left" "CON Removed. Basket: R89.95"$'\n'"1. View items"$'\n'"2. Check out" "$r"
r=$(ussd "$S" "$P" "$base*1*1*5*1*2*2*2*2")
check_eq "same as last time offers the last order's address" \
	"CON Deliver to 12 Main Rd Soweto?"$'\n'"1. Yes"$'\n'"2. Type another"$'\n'"0. Back" "$r"
r=$(ussd "$S" "$P" "$base*1*1*5*1*2*2*2*2*1*1")
check_match "the changed basket is ordered" "^CON Order #[0-9]+ placed: R89\.95\." "$r"
id=$(sed -nE 's/^CON Order #([0-9]+) placed.*/\1/p' <<<"$r")
check_eq "the order has the changed line only" "5x101" "$(lines_of "$id")"
check_eq "same as last time kept last time's instructions" "12 Main Rd Soweto|Blue gate" \
	"$(psql_val "SELECT delivery_address || '|' || delivery_note FROM orders WHERE id = $id")"

Q=$(t_phone 21)
r=$(ussd "$(t_sid)" "$Q" "1*1*1*2*1*3*2")
check_eq "same as last time with no earlier order asks for the address" \
	"CON No earlier address. Delivery address:"$'\n'"0. Back" "$r"
S=$(t_sid)
r=$(ussd "$S" "$Q" "1*1*1*2*1*3*2*12 Main Rd 😀")
check_eq "an address with a character outside the phone alphabet (an emoji) is refused on its screen" \
	"CON Address: 3 to 40 letters and digits."$'\n'"No earlier address. Delivery address:"$'\n'"0. Back" "$r"
r=$(ussd "$S" "$Q" "1*1*1*2*1*3*2*12 Main Rd 😀*12 Main Rd*1*Blue"$'\x14'"gate")
check_eq "... and instructions with a control character too" \
	"CON Instructions: 3 to 40 letters and digits."$'\n'"Instructions (e.g. gate code):"$'\n'"0. Back" "$r"

# ---- one line out of stock: named, nothing taken for any line
PROD=308		# Refuse bags 20s, page 2 of Household
old=$(stock $PROD)
at_exit "psql -X -qc 'UPDATE products SET stock = $old WHERE id = $PROD' >/dev/null"
psql -X -qc "UPDATE products SET stock = 1 WHERE id = $PROD" >/dev/null
R=$(t_phone 21)
milk=$(stock 108)
r=$(ussd "$(t_sid)" "$R" "1*1*8*2*1*1*3*98*8*2*2*3*1*5 Long St*2*1")
check_eq "a basket with a line out of stock names that product" \
	"CON Sorry, Refuse bags 20s is out of stock. Change your basket."$'\n'"1. View basket"$'\n'"0. Back" "$r"
check_eq "no order was made" 0 "$(cust_orders "$R")"
check_eq "nothing was taken for the line in stock" "$milk" "$(stock 108)"

# ---- two sessions of one customer at once, each checking out its own basket: the last unit
# of one product goes to one of them, and neither order holds the other's lines
psql -X -qc "UPDATE products SET stock = 2 WHERE id = $PROD" >/dev/null
C=$(t_phone 21)
# A: Refuse bags x2 + White bread x1; B: Refuse bags x2 + Milk x1
ra_path="1*3*98*8*2*2*1*1*1*2*1*3*1*1 A Street*2*1"
rb_path="1*3*98*8*2*2*1*1*8*2*1*3*1*2 B Street*2*1"
SA=$(t_sid) SB=$(t_sid)
ussd "$SA" "$C" "" >/dev/null
ussd "$SB" "$C" "" >/dev/null
ussd "$SA" "$C" "$ra_path" > "$T_TMP/a" & pa=$!
ussd "$SB" "$C" "$rb_path" > "$T_TMP/b" & pb=$!
wait $pa $pb
ra=$(cat "$T_TMP/a") rb=$(cat "$T_TMP/b")
placed=$(grep -c "placed" "$T_TMP/a" "$T_TMP/b" | awk -F: '{s += $2} END {print s}')
check_eq "of two simultaneous checkouts wanting the last 2 units, exactly one is placed" 1 "$placed"
check_has "... the other is told the product is out of stock" "Sorry, Refuse bags 20s is out of stock." "$ra$rb"
check_eq "the stock never went below zero" 0 "$(stock $PROD)"
check_eq "the customer has one order" 1 "$(cust_orders "$C")"
id=$(psql_val "SELECT o.id FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.msisdn = '$(e164 "$C")'")
if grep -q placed "$T_TMP/a"; then want="2x$PROD,1x101" addr="1 A Street"; else want="2x$PROD,1x108" addr="2 B Street"; fi
check_eq "the placed order holds its own session's lines only" "$want" "$(lines_of "$id")"
check_eq "... and its own session's address" "$addr" "$(psql_val "SELECT delivery_address FROM orders WHERE id = $id")"

check_true "spazactl ledger check passes" "the ledger check failed" \
	"$SPAZA_TOP/src/spazactl" -c "$SPAZA_CFG" ledger check
