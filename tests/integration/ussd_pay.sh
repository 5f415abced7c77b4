# Paying an order from the USSD menu: voucher (partial redemption, wrong PINs, lockout),
# credit line (within and over the limit), barcode slip; the ledger checks out afterwards.
source "$(dirname "$0")/lib.sh"

PHONE=$(t_phone 60)
order_via_ussd() { # order_via_ussd PHONE: places 2 x Coke 2L (R55.98), prints the order number
	local sid; sid=$(t_sid)
	ussd "$sid" "$1" "" >/dev/null
	ussd "$sid" "$1" "1*2*1*1*2*1" | sed -n 's/^END Order #\([0-9]*\) placed.*/\1/p'
}
pay() { # pay PHONE TEXT-AFTER-DIAL: a fresh session, prints the last reply
	local sid; sid=$(t_sid)
	ussd "$sid" "$1" "" >/dev/null
	ussd "$sid" "$1" "$2"
}

# ---- voucher ----
PINS=$T_TMP/pins
"$SPAZACTL" -c "$SPAZA_CFG" vouchers issue --count 2 --value 100 --out "$PINS" >/dev/null 2>"$T_TMP/issue.err"
check_true "vouchers are issued for the test" "$(cat "$T_TMP/issue.err")" test -s "$PINS"
PIN=$(grep -oE '[0-9]{16}' "$PINS" | head -1)
ORDER=$(order_via_ussd "$PHONE")
check_match "an order to pay" '^[0-9]+$' "$ORDER"

# a PIN whose check digit is wrong is refused before the database is asked
BAD=${PIN:0:15}$(( (${PIN:15:1} + 1) % 10 ))
r=$(pay "$PHONE" "3*$ORDER*1*$BAD")
check_eq "a PIN with a wrong check digit asks again" $'CON Invalid voucher PIN.\nEnter 16-digit voucher PIN\n0. Back' "$r"

PAID_SID=$(t_sid)
ussd "$PAID_SID" "$PHONE" "" >/dev/null
r=$(ussd "$PAID_SID" "$PHONE" "3*$ORDER*1*$PIN")
check_eq "a voucher pays the order and shows what is left on it" \
	"END Paid. Order #$ORDER R55.98 paid by voucher. Left on the voucher: R44.02." "$r"
# The same hop again once the session is gone from memory (10 s after its end, or after a
# restart) is replayed from the start: it finds the order paid and goes on to the payment with
# the first payment's key. tests/session_test.c proves that on a fake clock (no waiting here),
# and ledger.sh that the same key gives back the first result.
r=$(ussd "$PAID_SID" "$PHONE" "3*$ORDER*1*$PIN")
check_eq "the paying hop repeated shows the payment again" \
	"END Paid. Order #$ORDER R55.98 paid by voucher. Left on the voucher: R44.02." "$r"
check_eq "... and the voucher paid once" 1 \
	"$(psql -qtAc "SELECT count(*) FROM ledger_txns WHERE order_id = $ORDER")"
r=$(pay "$PHONE" "3*$ORDER*1*$PIN")
check_eq "a new session typing the whole payment for a paid order is refused" "END Order #$ORDER is Paid." "$r"
st=$(psql -qtAc "SELECT status FROM orders WHERE id = $ORDER")
check_eq "the order is paid in the database" "paid" "$st"
r=$(pay "$PHONE" "3*$ORDER")
check_eq "a paid order cannot be paid again" "END Order #$ORDER is Paid." "$r"

ORDER2=$(order_via_ussd "$PHONE")
r=$(pay "$PHONE" "3*$ORDER2*1*$PIN")
check_eq "the remainder does not cover a second order" \
	"END This voucher does not cover R55.98. Pay with another voucher or a slip." "$r"

# brute force: five unknown (check-digit valid) PINs lock voucher entry for the customer
LOCKP=$(t_phone 61)
ORDER3=$(order_via_ussd "$LOCKP")
for n in 1 2 3 4 5; do
	r=$(pay "$LOCKP" "3*$ORDER3*1*$(luhn_fix "99999999000000$n")")
done
r=$(pay "$LOCKP" "3*$ORDER3*1*$PIN")
check_eq "after five wrong PINs voucher entry is locked, even for a good PIN" \
	"END Too many wrong PINs. Voucher payments are locked for 24 hours." "$r"

# ---- credit line ----
CPHONE=$(t_phone 62)
ORDER4=$(order_via_ussd "$CPHONE")
r=$(pay "$CPHONE" "3*$ORDER4*2")
check_eq "without a credit line the order is refused with what is available" \
	"END Not enough credit: R0.00 available, R55.98 needed." "$r"
"$SPAZACTL" -c "$SPAZA_CFG" credit set-limit "$CPHONE" 100 >/dev/null
r=$(pay "$CPHONE" "3*$ORDER4*2")
check_eq "within the limit credit asks to confirm, with the amount and the credit left after" \
	"CON Pay R55.98 for order #$ORDER4 from your credit? Available after: R44.02."$'\n'"1. Confirm"$'\n'"2. Cancel" "$r"
r=$(pay "$CPHONE" "3*$ORDER4*2*2")
check_eq "cancelled there, nothing is paid" "END Nothing was paid. Order #$ORDER4 waits for payment." "$r"
check_eq "... and nothing is held" 0 "$(psql -qtAc "SELECT count(*) FROM holds WHERE order_id = $ORDER4")"
r=$(pay "$CPHONE" "3*$ORDER4*2*1")
check_eq "confirmed, the order is paid from credit" \
	"END Order #$ORDER4 (R55.98) paid from your credit. Still available: R44.02." "$r"
ORDER5=$(order_via_ussd "$CPHONE")
r=$(pay "$CPHONE" "3*$ORDER5*2")
check_eq "an order over the remaining credit is refused" \
	"END Not enough credit: R44.02 available, R55.98 needed." "$r"

# ---- barcode slip ----
r=$(pay "$CPHONE" "3*$ORDER5*3")
check_match "a slip for the amount due, grouped in fours, with its expiry" \
	"^END Pay R55.98 at any till with slip 9[0-9]{3} [0-9]{4} [0-9]{4} [0-9]{3} by 20[0-9]{2}-[0-9]{2}-[0-9]{2} \\(order #$ORDER5\\)\\.$" "$r"
ref=$(psql -qtAc "SELECT ref FROM slips WHERE order_id = $ORDER5")
check_match "the slip is in the database" '^9[0-9]{14}$' "$ref"

out=$("$SPAZACTL" -c "$SPAZA_CFG" ledger check 2>&1)
check_true "ledger check passes after USSD payments" "$(oneline "$out")" "$SPAZACTL" -c "$SPAZA_CFG" ledger check
