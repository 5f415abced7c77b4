# Checking before running: spazad -C proves a config and its menus (file:line: reason on any
# error), and spazactl catalog import refuses a bad catalogue as a whole, with line numbers.
source "$(dirname "$0")/lib.sh"

# check_cfg CFG: "RC|STDOUT|STDERR" of spazad -C -c CFG
check_cfg() {
	local rc=0
	"$SPAZAD" -C -c "$1" >"$T_TMP/out" 2>"$T_TMP/err" || rc=$?
	printf '%s|%s|%s' "$rc" "$(cat "$T_TMP/out")" "$(cat "$T_TMP/err")"
}
rc_of() { echo "${1%%|*}"; }

# ---- a good config: the suite's own
r=$(check_cfg "$SPAZA_CFG")
check_eq "spazad -C of a good config exits 0" 0 "$(rc_of "$r")"
check_match "spazad -C of a good config prints configuration OK" '^0\|configuration OK' "$r"
check_lacks "spazad -C of a good config writes no error" "invalid" "$r"

# ---- an unknown command, at a known line
GOOD=$T_TMP/good.cfg
cp "$SPAZA_CFG" "$GOOD"
n_lines=$(wc -l < "$GOOD")
BAD=$T_TMP/unknown.cfg
{ head -n 3 "$GOOD"; echo " frobnicate the gateway"; tail -n +4 "$GOOD"; } > "$BAD"
r=$(check_cfg "$BAD")
check_true "spazad -C with an unknown command exits non-zero" "exit status $(rc_of "$r")" test "$(rc_of "$r")" != 0
check_has "spazad -C names the unknown command's file and line ($BAD:4:)" "$BAD:4:" "$r"
check_lacks "spazad -C does not say OK for a bad config" "configuration OK" "$r"

BAD=$T_TMP/unknown-in-node.cfg
{ cat "$GOOD"; echo " session idle-timeout 30"; echo " no-such-setting 5"; } > "$BAD"
r=$(check_cfg "$BAD")
check_true "spazad -C with an unknown command inside the spaza node exits non-zero" "exit status $(rc_of "$r")" \
	test "$(rc_of "$r")" != 0
check_has "spazad -C names the line of the unknown command inside the spaza node" "$BAD:$((n_lines + 2)):" "$r"

BAD=$T_TMP/bad-value.cfg
{ cat "$GOOD"; echo " session idle-timeout 0"; } > "$BAD"
r=$(check_cfg "$BAD")
check_true "spazad -C with a value out of range exits non-zero" "exit status $(rc_of "$r")" test "$(rc_of "$r")" != 0
check_has "spazad -C names the line of the value out of range" "$BAD:$((n_lines + 1)):" "$r"

BAD=$T_TMP/no-newline.cfg
{ cat "$GOOD"; printf ' frobnicate'; } > "$BAD"
r=$(check_cfg "$BAD")
check_has "spazad -C names the right line when the bad command is the last line without a newline" \
	"$BAD:$((n_lines + 1)):" "$r"

# the report is one line, file:line: reason, without libosmovty's own words around it
BAD=$T_TMP/typo.cfg
{ head -n 3 "$GOOD"; echo " sesion idle-timeout 30"; tail -n +4 "$GOOD"; } > "$BAD"
r=$(check_cfg "$BAD")
check_eq "spazad -C with a typo prints only file:line: reason" \
	"1||$BAD:4: unknown command: sesion idle-timeout 30" "$r"

# check_reason WHAT LINE REASON: the good config and LINE after it is refused with REASON alone
check_reason() {
	local bad=$T_TMP/reason.cfg
	{ cat "$GOOD"; echo "$2"; } > "$bad"
	check_eq "$1" "1||$bad:$((n_lines + 1)): $3" "$(check_cfg "$bad")"
}
check_reason "spazad -C with a port out of range says so" " http listen 127.0.0.1 70000" \
	"port 70000 out of range (1-65535)"
check_reason "spazad -C names the value out of range among several" \
	" catalog limits name-max 24 price-max 0 qty-max 20" "price-max 0 out of range (1-1000000000)"
check_reason "spazad -C says an address is not an IPv4 address" " kannel box connect 10.0.0 13001" \
	"address 10.0.0 is not an IPv4 address"
BAD=$T_TMP/refused.cfg
{ cat "$GOOD"; echo " kannel sendsms password hunter2"; } > "$BAD"
check_eq "spazad -C passes a command's own refusal on, then points at it from file:line" \
	"1||% a password in the configuration is refused: put kannel-sendsms-password (its bytes in hex) in the secrets file
$BAD:$((n_lines + 1)): refused, for the reason above" "$(check_cfg "$BAD")"

r=$(check_cfg "$T_TMP/does-not-exist.cfg")
check_true "spazad -C of a missing file exits non-zero" "exit status $(rc_of "$r")" test "$(rc_of "$r")" != 0
check_has "spazad -C of a missing file names it" "$T_TMP/does-not-exist.cfg" "$r"

# ---- broken menus: a copy of menus/ with one file broken, named by a config
# menus_cfg DIR: a config like the good one but reading the menus in DIR
menus_cfg() { sed "s|^ menus .*| menus $1|" "$GOOD" > "$T_TMP/menus.cfg"; echo "$T_TMP/menus.cfg"; }
fresh_menus() { rm -rf "$T_TMP/menus"; cp -r "$SPAZA_TOP/menus" "$T_TMP/menus"; }
line_of() { grep -n -F -- "$2" "$1" | head -1 | cut -d: -f1; }	# line_of FILE TEXT

fresh_menus
r=$(check_cfg "$(menus_cfg "$T_TMP/menus")")
check_eq "spazad -C of an unchanged copy of the menus exits 0" 0 "$(rc_of "$r")"

# an isiZulu help text that overflows the 182-septet screen
fresh_menus
M=$T_TMP/menus/shop.yaml
long="Usizo lwe-Spaza: shayela 0800 555 123 (mahhala) noma u-SMS HELP ku-31555. Siyabonga ngokusebenzisa i-Spaza, sizokusiza njalo. Sicela ugcine le nombolo, uyisebenzise noma nini lapho udinga usizo."
sed -i "s|^      zu: \"Usizo lwe-Spaza: shayela 0800 555 123 (mahhala) noma u-SMS HELP ku-31555.\"|      zu: \"$long\"|" "$M"
over=$(( ${#long} - 182 ))
check_true "test set-up: the isiZulu help text was replaced" "not found in $M" grep -qF "$long" "$M"
r=$(check_cfg "$(menus_cfg "$T_TMP/menus")")
check_true "spazad -C with an overflowing text exits non-zero" "exit status $(rc_of "$r")" test "$(rc_of "$r")" != 0
check_lacks "spazad -C with an overflowing text does not say OK" "configuration OK" "$r"
screen_line=$(line_of "$M" "  help_call:")
text_line=$(line_of "$M" "$long")
check_match "the overflow is reported at the help screen's file:line (screen line $screen_line or text line $text_line)" \
	"$M:($screen_line|$text_line): " "$r"
check_match "the overflow report names the screen and the language" 'help.*\[?zu\]?|zu.*help' "$(grep -F "$M:" <<<"$r")"
check_has "the overflow report says by how much (${#long} septets, $over over 182)" "$over" "$(grep -F "$M:" <<<"$r")"
check_lacks "only the broken language is reported" "[en]" "$r"

# an unknown placeholder
fresh_menus
sed -i 's|en: "Sorry, {product} is out of stock."|en: "Sorry, {prodcut} is out of stock."|' "$M"
check_true "test set-up: the placeholder was replaced" "not found in $M" grep -qF '{prodcut}' "$M"
r=$(check_cfg "$(menus_cfg "$T_TMP/menus")")
check_true "spazad -C with an unknown placeholder exits non-zero" "exit status $(rc_of "$r")" test "$(rc_of "$r")" != 0
check_has "the unknown placeholder is reported at its file:line with its name" \
	"$M:$(line_of "$M" '{prodcut}'): unknown placeholder {prodcut}" "$r"

# an overflow in the benchmark shop's only language, next to a good shop.yaml
fresh_menus
M=$T_TMP/menus/bench.yaml
sed -i 's|    text: "Order {qty} x {product} for {total}?"|    text: "Order {qty} x {product} for {total}? Check the quantity, the product and the total before you confirm: an order cannot be changed after this."|' "$M"
r=$(check_cfg "$(menus_cfg "$T_TMP/menus")")
check_true "spazad -C with an overflow in a second menu file exits non-zero" "exit status $(rc_of "$r")" test "$(rc_of "$r")" != 0
check_match "the overflow is reported in bench.yaml at the confirm screen, in English" \
	"$M:[0-9]+: .*confirm.*en" "$r"
check_lacks "the good shop.yaml is not blamed" "shop.yaml" "$r"

# a YAML syntax error
fresh_menus
M=$T_TMP/menus/shop.yaml
sed -i 's|^  help:|  help: [|' "$M"
r=$(check_cfg "$(menus_cfg "$T_TMP/menus")")
check_true "spazad -C with broken YAML exits non-zero" "exit status $(rc_of "$r")" test "$(rc_of "$r")" != 0
check_match "broken YAML is reported with file:line" "$M:[0-9]+: " "$r"

# the running daemon does not care: its menus are untouched
r=$(ussd "$(t_sid)" "$(t_phone 15)" "5*3")
check_eq "the shared daemon still serves help" "END Spaza help: call 0800 555 123 (free) or SMS HELP to 31555." "$r"

# ---- a bad catalogue is refused as a whole, with line numbers
before=$("$SPAZACTL" -c "$SPAZA_CFG" catalog show 2>&1)
before_db=$(psql_val "SELECT md5(string_agg(id || ',' || name || ',' || price_cents || ',' || stock || ',' || active, ';' ORDER BY id)) FROM products")
rc=0
out=$("$SPAZACTL" -c "$SPAZA_CFG" catalog import "$SPAZA_TOP/tests/integration/catalog_import_bad.csv" 2>&1) || rc=$?
check_eq "catalog import of a bad file exits 1" 1 "$rc"
F=$SPAZA_TOP/tests/integration/catalog_import_bad.csv
for l in 4 5 6 7 8 9 10 11 12 13 14 15 16 17; do
	check_has "catalog import reports the error on line $l" "$F:$l: " "$out"
done
check_lacks "catalog import reports no error on a good line (2)" "$F:2: " "$out"
check_lacks "catalog import reports no error on a good line (3, a quoted comma)" "$F:3: " "$out"
check_has "catalog import says nothing was imported" "nothing imported" "$out"
check_lacks "catalog import does not claim to have imported" "imported 1" "$out"
check_eq "after a refused import the catalogue is as it was (spazactl catalog show)" "$before" \
	"$("$SPAZACTL" -c "$SPAZA_CFG" catalog show 2>&1)"
check_eq "after a refused import the products table is as it was" "$before_db" \
	"$(psql_val "SELECT md5(string_agg(id || ',' || name || ',' || price_cents || ',' || stock || ',' || active, ';' ORDER BY id)) FROM products")"
r=$(ussd "$(t_sid)" "$(t_phone 15)" "1*2")
check_match "the shop still lists the old catalogue" $'^CON Drinks \\(1/2\\)\n1\\. Coke 2L R27\\.99\n' "$r"

rc=0
out=$("$SPAZACTL" -c "$SPAZA_CFG" catalog import "$T_TMP/no-such.csv" 2>&1) || rc=$?
check_true "catalog import of a missing file fails" "exit status $rc" test "$rc" != 0
check_has "catalog import of a missing file names it" "$T_TMP/no-such.csv" "$out"
