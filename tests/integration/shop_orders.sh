# Orders from the USSD shop under the conditions a live network makes: stock running out,
# an aggregator retrying a hop before the first answer came back, a new customer's first
# hop arriving twice at once.
source "$(dirname "$0")/lib.sh"

PROD=308		# Household 8: Refuse bags 20s, R23.99
NAME="Refuse bags 20s"
orders_of() { psql_val "SELECT count(*) FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.msisdn = '$(e164 "$1")'"; }

# ---- stock: only 2 left
old_stock=$(psql_val "SELECT stock FROM products WHERE id = $PROD")
[[ "$old_stock" =~ ^[0-9]+$ ]] || { echo "product $PROD not in the catalogue" >&2; exit 1; }
at_exit "psql -X -qc 'UPDATE products SET stock = $old_stock WHERE id = $PROD' >/dev/null"
psql -X -qc "UPDATE products SET stock = 2 WHERE id = $PROD" >/dev/null

P=$(t_phone 16)
r=$(ussd "$(t_sid)" "$P" "1*3*98*8*1*3*1")
check_eq "ordering 3 when 2 are left says the product is out of stock" "END Sorry, $NAME is out of stock." "$r"
check_eq "the refused order is not in the database" 0 "$(orders_of "$P")"
check_eq "the refused order took nothing from stock" 2 "$(psql_val "SELECT stock FROM products WHERE id = $PROD")"
r=$(ussd "$(t_sid)" "$P" "1*3*98*8*1*2*1")
check_match "ordering the last 2 works" '^END Order #[0-9]+ placed\. Pay via option 3\.$' "$r"
check_eq "the order took 2 from stock" 0 "$(psql_val "SELECT stock FROM products WHERE id = $PROD")"
r=$(ussd "$(t_sid)" "$(t_phone 16)" "1*3*98*8*1*1*1")
check_eq "another customer ordering 1 of none left is told it is out of stock" "END Sorry, $NAME is out of stock." "$r"
r=$(ussd "$(t_sid)" "$P" "2")
check_match "my orders shows the one order placed" "^CON Your orders:"$'\n'"1\. #[0-9]+ R47\.98 Awaiting payment"$'\n'"0\. Back\$" "$r"
psql -X -qc "UPDATE products SET stock = $old_stock WHERE id = $PROD" >/dev/null

# ---- the aggregator retries the confirming hop while the first is still being answered
P=$(t_phone 16)
S=$(t_sid)
ussd "$S" "$P" "" >/dev/null
pids=()
for i in 1 2 3; do
	ussd "$S" "$P" "1*2*2*1*2*1" > "$T_TMP/dup$i" &
	pids+=($!)
done
wait "${pids[@]}"
r=$(cat "$T_TMP/dup1")
check_match "the first of three simultaneous identical hops places the order" '^END Order #[0-9]+ placed\.' "$r"
check_eq "the second simultaneous identical hop gets the same answer" "$r" "$(cat "$T_TMP/dup2")"
check_eq "the third simultaneous identical hop gets the same answer" "$r" "$(cat "$T_TMP/dup3")"
check_eq "three simultaneous identical hops make one order" 1 "$(orders_of "$P")"
r2=$(ussd "$S" "$P" "1*2*2*1*2*1")
check_eq "the same hop once more, after the session ended, still gets the same answer" "$r" "$r2"
check_eq "... and still no second order" 1 "$(orders_of "$P")"

# ---- a new customer's first hop, twice at once (a retry before the first answer)
P=$(t_phone 16)
S=$(t_sid)
pids=()
for i in 1 2; do
	ussd "$S" "$P" "" > "$T_TMP/first$i" &
	pids+=($!)
done
wait "${pids[@]}"
main="CON Welcome to Spaza"$'\n'"1. Browse"$'\n'"2. My orders"$'\n'"3. Pay"$'\n'"4. Language"$'\n'"5. Help"$'\n'"6. Basket"$'\n'"7. My account"
check_eq "the first of two simultaneous first hops of a new customer gets the main menu" "$main" "$(cat "$T_TMP/first1")"
check_eq "the second of two simultaneous first hops gets the main menu too" "$main" "$(cat "$T_TMP/first2")"
check_eq "two simultaneous first hops make one customer record" 1 \
	"$(psql_val "SELECT count(*) FROM customers WHERE msisdn = '$(e164 "$P")'")"
r=$(ussd "$S" "$P" "1")
check_match "the session goes on after the duplicated first hop" '^CON Categories' "$r"

# ---- two different new customers in one second each get their own record and orders
A=$(t_phone 16) B=$(t_phone 16)
ussd "$(t_sid)" "$A" "1*1*1*1*1*1" > "$T_TMP/a" & pa=$!
ussd "$(t_sid)" "$B" "1*1*2*1*1*1" > "$T_TMP/b" & pb=$!
wait $pa $pb
ra=$(ussd "$(t_sid)" "$A" "2") rb=$(ussd "$(t_sid)" "$B" "2")
check_match "customer A sees only A's order" "^CON Your orders:"$'\n'"1\. #[0-9]+ R17\.99 Awaiting payment"$'\n'"0\. Back\$" "$ra"
check_match "customer B sees only B's order" "^CON Your orders:"$'\n'"1\. #[0-9]+ R16\.49 Awaiting payment"$'\n'"0\. Back\$" "$rb"
