# Key rotation (doc/security.md): `spazactl keys rotate` adds a version to the secrets file
# (still mode 0600, no key printed); new voucher PINs, retailer keys and slip QR codes use it;
# what the old version made still verifies within `keys grace-period` and is refused, logged
# and counted after it; `keys list` shows versions and dates, never a key; no key in any log.
# Past the grace period is reached by dating the new version's "since" back, as a clock would.
source "$(dirname "$0")/lib.sh"
T=keys

own_up "$T" " keys grace-period 3600" " session hop-deadline 4000" ||
	{ fail "$T: own spazad starts (log: ${OWN_LOG:-?})"; exit 0; }
SECRETS=$T_TMP/secrets
ctl() { "$SPAZACTL" -c "$OWN_CFG" "$@"; }
ALL_OUT=$T_TMP/ctl-output	# everything spazactl printed, searched for keys at the end
say_ctl() { ctl "$@" 2>&1 | tee -a "$ALL_OUT"; return "${PIPESTATUS[0]}"; }
hexkey() { sed -nE "s/^$1 *= *([0-9a-f]+).*/\\1/p" "$SECRETS"; }	# hexkey NAME[@N]
mode() { stat -c %a "$SECRETS"; }
# back_date NAME@N: its version was made long ago, so the one before is past its grace period
back_date() { sed -i -E "s/^($1 = [0-9a-f]+ since ).*/\\12020-01-01T00:00:00Z/" "$SECRETS"; }

order_via_ussd() { # order_via_ussd PHONE: 2 x Coke 2L (R55.98), prints the order number
	local sid; sid=$(t_sid)
	ussd "$sid" "$1" "" "" "$OWN_URL" >/dev/null
	ussd "$sid" "$1" "1*2*1*1*2*1" "" "$OWN_URL" | sed -n 's/^END Order #\([0-9]*\) placed.*/\1/p'
}
pay() { # pay PHONE TEXT-AFTER-DIAL: a fresh session, prints the last reply
	local sid; sid=$(t_sid)
	ussd "$sid" "$1" "" "" "$OWN_URL" >/dev/null
	ussd "$sid" "$1" "$2" "" "$OWN_URL"
}
pay_voucher() { pay "$1" "3*$(order_via_ussd "$1")*1*$2"; }	# pay_voucher PHONE PIN
pins() { grep -oE '^[0-9]{16}' "$1"; }

# ---- before: version 1 of every key, vouchers and a retailer made with it
say_ctl vouchers issue --count 3 --value 100 --out "$T_TMP/pins1" >/dev/null
mapfile -t PINS1 < <(pins "$T_TMP/pins1")
check_eq "$T: vouchers issued before the rotation carry voucher-pin version 1" "1" \
	"$(psql_val "SELECT DISTINCT key_version FROM vouchers WHERE last4 = '${PINS1[0]:12:4}' ORDER BY 1 DESC LIMIT 1")"
OLD_RETAILER="Keys test old $$ $RANDOM"
out=$(say_ctl retailer add "$OLD_RETAILER")
OLD_KEY=$(sed -n 's/^key id *//p' <<<"$out") OLD_SECRET=$(sed -n 's/^secret *//p' <<<"$out")
check_match "$T: a retailer key made under retailer-master version 1 reads rk_" '^rk_[0-9a-f]{16}$' "$OLD_KEY"

# ---- rotate each key
for k in voucher-pin retailer-master slip-qr; do
	out=$(say_ctl keys rotate "$k"); rc=$?
	check_eq "$T: keys rotate $k: exit 0" 0 "$rc"
	check_has "$T: ... says version 2 is added" "$k: version 2 added" "$out"
	check_true "$T: ... the secrets file has $k@2 with its date" "no line" \
		grep -qE "^$k@2 = [0-9a-f]{64} since 20[0-9-]{8}T[0-9:]{8}Z$" "$SECRETS"
	check_lacks "$T: ... and does not print it" "$(hexkey "$k@2")" "$out"
	check_eq "$T: ... the secrets file stays mode 0600" 600 "$(mode)"
done
out=$(say_ctl keys rotate vty-token 2>&1); rc=$?
check_eq "$T: keys rotate of a password is a usage error" 2 "$rc"
out=$(say_ctl keys list); rc=$?
check_eq "$T: keys list: exit 0" 0 "$rc"
check_match "$T: keys list shows version 1 in its grace period and version 2 current" \
	"voucher-pin +1 .* grace.*voucher-pin +2 .* current" "$out"
while read -r val; do
	check_lacks "$T: keys list shows no key" "$val" "$out"
done < <(sed -nE 's/^[a-z-]+(@[0-9]+)? = ([0-9a-f]+).*/\2/p' "$SECRETS")

# ---- new issues use the new version
say_ctl vouchers issue --count 1 --value 100 --out "$T_TMP/pins2" >/dev/null
PIN2=$(pins "$T_TMP/pins2")
check_eq "$T: a voucher issued after the rotation carries voucher-pin version 2" 2 \
	"$(psql_val "SELECT key_version FROM vouchers WHERE last4 = '${PIN2:12:4}' ORDER BY id DESC LIMIT 1")"
out=$(say_ctl retailer add "Keys test new $$ $RANDOM")
NEW_KEY=$(sed -n 's/^key id *//p' <<<"$out")
check_match "$T: a retailer key made after the rotation names retailer-master version 2" '^rk2_[0-9a-f]{16}$' "$NEW_KEY"
check_eq "$T: ... and the database says so" 2 "$(psql_val "SELECT master_version FROM retailer_keys WHERE key_id = '$NEW_KEY'")"

# ---- within the grace period the old version still verifies
PHONE=$(t_phone 71)
r=$(pay_voucher "$PHONE" "${PINS1[0]}")
check_match "$T: a PIN issued before the rotation redeems within the grace period" '^END Paid\.' "$r"
r=$(pay_voucher "$PHONE" "$PIN2")
check_match "$T: a PIN issued after it redeems" '^END Paid\.' "$r"

till_get() { # till_get KEY SECRET PATH: the status of a signed GET
	local t; t=$(date +%s)
	curl -sS --noproxy '*' --max-time 20 -o "$T_TMP/body" -w '%{http_code}' -H "X-Spaza-Key: $1" \
		-H "X-Spaza-Signature: t=$t,v2=$(till_sign "$2" GET "$3" "$1" "$t" "")" "$OWN_TILL_URL$3"
}
SLIP_PHONE=$(t_phone 72)
r=$(pay "$SLIP_PHONE" "3*$(order_via_ussd "$SLIP_PHONE")*3")
REF=$(sed -nE 's/.*slip (9[0-9]{3}) ([0-9]{4}) ([0-9]{4}) ([0-9]{3}) by.*/\1\2\3\4/p' <<<"$r")
check_match "$T: a slip to look up and sign" '^9[0-9]{14}$' "$REF"
check_eq "$T: a till key derived from retailer-master version 1 still signs within the grace period" 200 \
	"$(till_get "$OLD_KEY" "$OLD_SECRET" "/api/v1/slips/$REF")"

# a slip's QR payload signed with each version, as doc/retailer-api.md defines it
qr() { # qr VERSION KEY-HEX
	local msg; msg="SPAZA$1:$REF:5598:$(psql_val "SELECT to_char(expires_at, 'YYYYMMDD') FROM slips WHERE ref = '$REF'")"
	printf '%s:%s' "$msg" "$(printf '%s' "$msg" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$2" |
		awk '{ print toupper(substr($NF, 1, 32)) }')"
}
QR1=$(qr 1 "$(hexkey slip-qr)") QR2=$(qr 2 "$(hexkey slip-qr@2)")
out=$(say_ctl slip verify "$QR1"); rc=$?
check_eq "$T: a slip QR signed with slip-qr version 1 verifies within the grace period" "0 genuine" "$rc ${out:0:7}"
out=$(say_ctl slip verify "$QR2"); rc=$?
check_has "$T: a slip QR signed with version 2 verifies, naming it" "(slip-qr version 2)" "$out"
out=$(say_ctl slip verify "$(qr 2 "$(hexkey slip-qr)")"); rc=$?
check_eq "$T: version 2's name on a QR signed with version 1 is a forgery" "1 FORGED" "$rc ${out:0:6}"
out=$(say_ctl slip print "$REF" --format svg --out "$T_TMP/slip.svg"); rc=$?
check_eq "$T: a slip prints after the rotation (its QR code signed with version 2)" 0 "$rc"

# ---- after the grace period the old version is refused, logged and counted
for k in voucher-pin retailer-master slip-qr; do back_date "$k@2"; done
check_eq "$T: dating the rotation back keeps the secrets file mode 0600" 600 "$(mode)"
out=$(say_ctl keys list)
check_match "$T: keys list shows version 1 retired" "slip-qr +1 .* retired" "$out"
r=$(pay_voucher "$PHONE" "${PINS1[1]}")
check_match "$T: a PIN of version 1 is refused after the grace period (as an unusable PIN)" \
	'^(CON|END) Invalid voucher PIN' "$r"
check_eq "$T: ... nothing was taken from that voucher" 10000 \
	"$(psql_val "SELECT remaining_cents FROM vouchers WHERE last4 = '${PINS1[1]:12:4}' ORDER BY id DESC LIMIT 1")"
wait_for 5 grep -q "retired voucher-pin key version" "$OWN_LOG"
check_true "$T: ... and the refusal is logged" "no log line in $OWN_LOG" grep -q "retired voucher-pin key version" "$OWN_LOG"
r=$(pay_voucher "$PHONE" "$PIN2")
check_match "$T: ... while a PIN of version 2 still redeems" '^(END Paid\.|END This voucher does not cover)' "$r"
check_eq "$T: a till key of retailer-master version 1 is refused after the grace period" 401 \
	"$(till_get "$OLD_KEY" "$OLD_SECRET" "/api/v1/slips/$REF")"
check_true "$T: ... logged" "no log line" grep -q "key retailer-master version 1 was replaced" "$OWN_LOG"
vty_open "$OWN_VTY"
out=$(vty "show stats")
vty_close
check_match "$T: ... and both refusals counted (keys:retired)" "past its grace period: +2 " "$out"
out=$(say_ctl slip verify "$QR1"); rc=$?
check_eq "$T: a slip QR of slip-qr version 1 is refused after the grace period" "1 RETIRED" "$rc ${out:0:7}"
out=$(say_ctl slip verify "$QR2"); rc=$?
check_eq "$T: ... and one of version 2 still verifies" "0 genuine" "$rc ${out:0:7}"

# ---- no key anywhere it should not be
own_down "$T"
LOGTEXT=$(cat "$OWN_LOG" "$ALL_OUT")
while read -r name val; do
	check_lacks "$T: no log or spazactl output holds a key ($name)" "$val" "$LOGTEXT"
done < <(sed -nE 's/^([a-z-]+(@[0-9]+)?) = ([0-9a-f]+).*/\1 \3/p' "$SECRETS")
check_eq "$T: the secrets file is still mode 0600 at the end" 600 "$(mode)"
out=$("$SPAZACTL" -c "$SPAZA_CFG" ledger check 2>&1); rc=$?
check_eq "$T: ledger check passes" 0 "$rc"
