#!/usr/bin/env bash
# The native box front end (src/fronts/front_box.c) against a real bearerbox (Debian's kannel 1.4.5),
# no smsbox and no HTTP:
#   - bearerbox unreachable at spazad's start: spazad keeps running, logs the outage once, retries,
#     and connects (as an unnamed box) once bearerbox is up;
#   - an SMS MO from Kannel's fakesmsc gets its reply through the box, and bearerbox acks the MT;
#   - USSD dialogues from tools/spaza-smsc over SMPP: the begin gets the first screen with
#     ussd_service_op 2 and the echoed its_session_info, the answer gets the final screen with 17;
#     a screen that is not GSM-7 goes out as UCS-2; SMS (GSM-7 and UCS-2) get their replies; all of
#     it lands on the customer's timeline with channel "box";
#   - bearerbox restarted: spazad reconnects by itself and serves again;
#   - a fake bearerbox (python3) checks the acks and the reply MTs field by field, refuses one MT
#     (counted in box:nacks), and sends malformed frames (oversized, truncated, unknown type): each
#     is logged, counted and drops the connection; spazad stays up and reconnects;
#   - the round trip through the box, measured on the fake SMSC (idle, 100 ms apart) and over SMPP
#     (one at a time), must stay far below the ~40 ms that Nagle + delayed ACKs would add.
# Prints one PASS:/FAIL: line per assertion; the measured latencies are in the PASS lines.
source "$(dirname "$0")/lib.sh"
T=kannel_box
BEARERBOX=/usr/sbin/bearerbox
FAKESMSC=/usr/lib/kannel/test/fakesmsc
SMSC=$SPAZA_TOP/tools/spaza-smsc

if [ ! -x "$BEARERBOX" ] || [ ! -x "$FAKESMSC" ]; then
	echo "SKIP: $T: bearerbox or fakesmsc not installed (Debian packages kannel, kannel-extras)"
	exit 0
fi

# ---- a bearerbox of our own: a fake SMSC for fakesmsc, an SMPP link to spaza-smsc ----
read -r BB_ADMIN BB_BOX BB_FAKE SIM_PORT <<< "$(p=""; for i in 1 2 3 4; do
	while :; do n=$(free_port); case " $p " in *" $n "*) ;; *) break ;; esac; done; p="$p $n"; done; echo $p)"
BB_PW=adm$RANDOM
BB_PID=
cat > "$T_TMP/kannel.conf" <<CONF
group = core
admin-port = $BB_ADMIN
admin-interface = 127.0.0.1
admin-password = $BB_PW
status-password = $BB_PW
admin-allow-ip = "127.0.0.1"
smsbox-port = $BB_BOX
smsbox-interface = 127.0.0.1
box-allow-ip = "127.0.0.1"
log-file = "$T_TMP/bearerbox.log"
log-level = 1
store-type = file
store-location = "$T_TMP/bearerbox.store"

# bearerbox 1.4.5 refuses an smsbox-port without an smsbox group, even when no smsbox runs
group = smsbox
bearerbox-host = 127.0.0.1

group = smsc
smsc = fake
smsc-id = fake
allowed-smsc-id = fake
port = $BB_FAKE
connect-allow-ip = 127.0.0.1

group = smsc
smsc = smpp
smsc-id = sim
allowed-smsc-id = sim
host = 127.0.0.1
port = $SIM_PORT
receive-port = 0
transceiver-mode = true
smsc-username = "spaza"
smsc-password = "sim4test"
system-type = spaza
interface-version = 34
reconnect-delay = 1

group = smpp-tlv
name = ussd_service_op
tag = 0x0501
type = octetstring
length = 1
smsc-id = sim

group = smpp-tlv
name = its_session_info
tag = 0x1383
type = octetstring
length = 2
smsc-id = sim
CONF

bb_status() { curl -sf -m 2 --noproxy '*' "http://127.0.0.1:$BB_ADMIN/status.txt?password=$BB_PW"; }
bb_up() {
	"$BEARERBOX" -v 4 "$T_TMP/kannel.conf" </dev/null >>"$T_TMP/bearerbox.out" 2>&1 &
	BB_PID=$!
	wait_for 30 bb_status && wait_for 10 sh -c "ss -Hltn 'sport = :$BB_BOX' | grep -q ."
}
bb_down() {
	[ -n "$BB_PID" ] || return 0
	curl -sf -m 5 --noproxy '*' -o /dev/null "http://127.0.0.1:$BB_ADMIN/shutdown?password=$BB_PW"
	wait_for 20 sh -c "! kill -0 $BB_PID 2>/dev/null" || kill -9 "$BB_PID" 2>/dev/null
	wait "$BB_PID" 2>/dev/null
	BB_PID=
}
at_exit bb_down
# bearerbox lists an unnamed box as "smsbox:(none), IP 127.0.0.1 (... on-line ...)"
bb_has_box() { bb_status | grep -q 'smsbox:(none), IP 127.0.0.1.*on-line'; }

# box_show: `show kannel box` of the daemon whose VTY port is $1
box_show() { vty_open "$1" && vty "show kannel box"; vty_close; }
# box_ctr VTY NAME: one counter from its last line, "mo 1, mt 1, acks 1, nacks 0, ..."
box_ctr() { box_show "$1" | tail -1 | tr ',' '\n' | awk -v k="$2" '$1 == k { print $2 }'; }

# ---- 1. bearerbox is not there yet when spazad starts ----
if ! own_up box " kannel box connect 127.0.0.1 $BB_BOX" " session hop-deadline 3000"; then
	fail "$T: spazad starts while bearerbox is unreachable: no /health within 30 s (see $OWN_LOG)"
	exit 0
fi
pass "$T: spazad starts while bearerbox is unreachable"
A_PID=$OWN_PID A_VTY=$OWN_VTY A_LOG=$OWN_LOG A_PIDF=$OWN_PIDF
wait_for 5 grep -q 'bearerbox not reachable' "$A_LOG"
sleep 1.6	# attempts at 0, 0.5 and 1.5 s
check_true "$T: spazad keeps running while bearerbox is away" "it exited (see $A_LOG)" kill -0 "$A_PID"
check_true "$T: spazad still answers /health while bearerbox is away" "no 200" \
	curl -sf --noproxy '*' -o /dev/null "$OWN_URL/health"
out=$(box_show "$A_VTY")
check_match "$T: spazad retries in the background" "waiting to reconnect|connecting" "$out"
attempts=$(printf '%s' "$out" | grep -o '[0-9]* failed attempts' | awk '{print $1}')
check_true "$T: at least 3 attempts in 1.6 s (0.5 s back-off, doubling)" "got ${attempts:-none}" \
	test "${attempts:-0}" -ge 3
check_eq "$T: the outage is logged once at NOTICE, not per attempt" 1 "$(grep -c 'bearerbox not reachable' "$A_LOG")"

if ! bb_up; then
	fail "$T: bearerbox starts: $(grep -v DEBUG "$T_TMP/bearerbox.out" | tail -3)"
	exit 0
fi
if wait_for 15 grep -q 'connected to bearerbox' "$A_LOG"; then
	pass "$T: spazad connects once bearerbox is up"
else
	fail "$T: spazad connects once bearerbox is up: nothing within 15 s (see $A_LOG)"
fi
check_true "$T: bearerbox lists spazad as an unnamed box, on-line" "$(bb_status | grep -A2 'Box conn')" \
	wait_for 5 bb_has_box

# ---- 2. an SMS through the fake SMSC: fakesmsc -> bearerbox -> box -> spazad -> back ----
sms_roundtrip() { # sms_roundtrip PHONE TEXT: fakesmsc sends one MO; prints what it got back
	local out=$T_TMP/fakesmsc.$RANDOM pid
	"$FAKESMSC" -H 127.0.0.1 -r "$BB_FAKE" -m 1 "$1 31555 text $2" >"$out" 2>&1 &
	pid=$!
	wait_for 15 grep -q 'Got message' "$out"
	kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
	grep -o 'Got message [0-9]*: <.*' "$out" | head -1
}
PHONE=$(t_phone 61)
got=$(sms_roundtrip "$PHONE" HELP)
check_match "$T: an SMS MO (HELP) gets its reply through the box, from the short code to the sender" \
	"^Got message 1: <31555 $PHONE text Spaza SMS: " "$got"
acks=$(box_ctr "$A_VTY" acks)
check_true "$T: bearerbox acked the reply MT (box:acks)" "got <${acks:-none}>" test "${acks:-0}" -ge 1
check_eq "$T: no MT refused by bearerbox" 0 "$(box_ctr "$A_VTY" nacks)"

# ---- 3. idle round trip latency over the fake SMSC (the fake protocol is one text line each way) ----
fake_latency() { # prints the median and the max of N idle round trips in microseconds
	local n=$1 i t0 t1 line lat=()
	exec 8<>"/dev/tcp/127.0.0.1/$BB_FAKE" || return 1
	for ((i = 0; i < n; i++)); do
		t0=$EPOCHREALTIME
		printf '%s 31555 text HELP\n' "$PHONE" >&8
		IFS= read -r -t 10 line <&8 || { exec 8>&-; return 1; }
		t1=$EPOCHREALTIME
		lat+=($(( ${t1/./} - ${t0/./} )))
		sleep 0.1
	done
	exec 8>&-
	printf '%s\n' "${lat[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)], a[NR]}'
}
read -r med max <<< "$(fake_latency 21)"
if [ -n "${med:-}" ] && [ "$med" -lt 20000 ]; then
	pass "$T: idle SMS round trip fake SMSC -> bearerbox -> box -> spazad (commit) -> back: median $((med / 1000)).$(( (med % 1000) / 100 )) ms, max $((max / 1000)).$(( (max % 1000) / 100 )) ms"
else
	fail "$T: idle SMS round trip through the box: expected a median under 20 ms, got ${med:-no reply} us"
fi

# ---- 4. USSD over SMPP: spaza-smsc -> bearerbox -> box -> spazad -> back ----
if [ -x "$SMSC" ]; then
	MSISDN=27$(t_phone 62 | cut -c2-)
	cat > "$T_TMP/smsc.script" <<SCRIPT
wait-bind timeout=30000
ussd-begin $MSISDN *120*777# 13313
expect-submit to=$MSISDN ussd_service_op=2 its_session_info=13313 service_type=USSD text="/^Welcome to Spaza/"
ussd-continue $MSISDN 5 13313
expect-submit to=$MSISDN ussd_service_op=2 its_session_info=13313 text="/^How can we help/"
ussd-continue $MSISDN 3 13313
expect-submit to=$MSISDN ussd_service_op=17 its_session_info=13313 text="/^Spaza help/"
ussd-begin $MSISDN *120*777# 9728
expect-submit to=$MSISDN ussd_service_op=2 its_session_info=9728 text="/^Welcome to Spaza/"
ussd-continue $MSISDN 2 9728
expect-submit to=$MSISDN ussd_service_op=2 its_session_info=9728 text="/no orders/"
ussd-continue $MSISDN 0 9728
expect-submit to=$MSISDN ussd_service_op=2 its_session_info=9728 text="/^Welcome to Spaza/"
ussd-continue $MSISDN 5 9728
expect-submit to=$MSISDN ussd_service_op=2 its_session_info=9728 text="/^How can we help/"
ussd-continue $MSISDN 3 9728
expect-submit to=$MSISDN ussd_service_op=17 its_session_info=9728 text="/^Spaza help/"
sms $MSISDN 31555 HELP
expect-submit-sms to=$MSISDN from=31555 text="/^Spaza SMS/"
sms $MSISDN 31555 "Molo ☺"
expect-submit-sms to=$MSISDN from=31555 text=/./
ussd-begin $MSISDN *120*777# 4609
expect-submit to=$MSISDN ussd_service_op=2 its_session_info=4609 text="/^Welcome to Spaza/"
ussd-continue $MSISDN 4 4609
expect-submit to=$MSISDN ussd_service_op=2 its_session_info=4609 text="/^Choose your language/"
ussd-continue $MSISDN 3 4609
expect-submit to=$MSISDN ussd_service_op=17 its_session_info=4609 text="/Afrikaans/"
ussd-begin $MSISDN *120*777# 4611
expect-submit to=$MSISDN ussd_service_op=2 its_session_info=4611 text="/^Welkom by Spaza/"
ussd-continue $MSISDN 1 4611
expect-submit to=$MSISDN ussd_service_op=2 its_session_info=4611 data_coding=8 text="/^Kategorieë/"
echo DIALOGUE-DONE
quit
SCRIPT
	"$SMSC" -p "$SIM_PORT" -u spaza -w sim4test --script "$T_TMP/smsc.script" >"$T_TMP/smsc.out" 2>&1 &
	SIM_PID=$!
	if wait "$SIM_PID"; then
		pass "$T: a USSD dialogue over SMPP through the box: first screen with ussd_service_op 2 and the echoed its_session_info, the answer ends it with 17 (its_session_info 0x3401, 0x2600, 0x1201)"
		pass "$T: SMS over SMPP (GSM-7, and UCS-2 text from the phone) get their replies through the box"
		pass "$T: a screen that is not GSM-7 (Kategorieë) goes out as UCS-2 (data_coding 8) through the box"
	else
		fail "$T: USSD and SMS over SMPP through the box: $(tail -5 "$T_TMP/smsc.out" | tr '\n' ' ')"
	fi
	q_sms="SELECT string_agg(m.text, '|' ORDER BY m.id) FROM sms_messages m JOIN customers c ON c.id = m.customer_id
	       WHERE c.msisdn = '+$MSISDN' AND m.direction = 'in' AND m.channel = 'box'"
	check_eq "$T: the SMS MOs are on the customer's timeline, channel box, UCS-2 decoded to UTF-8" \
		"HELP|Molo ☺" "$(psql_val "$q_sms")"
	q_ussd="SELECT count(*) FROM ussd_sessions s JOIN customers c ON c.id = s.customer_id
		WHERE c.msisdn = '+$MSISDN' AND s.channel = 'box' AND s.outcome = 'completed'"
	wait_for 10 sh -c "[ \"\$(psql -X -qtAc \"$q_ussd\")\" = 3 ]"
	check_eq "$T: the finished dialogues are on the customer's timeline, channel box, completed" 3 "$(psql_val "$q_ussd")"

	# idle USSD round trips, one at a time: begin -> first screen
	"$SMSC" -p "$SIM_PORT" -u spaza -w sim4test --load 200 -c 1 --msisdn-base "27$(t_phone 63 | cut -c2-)" -q \
		>"$T_TMP/load.out" 2>&1
	res=$(grep '^load:' "$T_TMP/load.out")
	p50=$(printf '%s' "$res" | grep -o 'p50 [0-9.]*' | awk '{print $2}')
	if [ -n "$p50" ] && awk "BEGIN { exit !($p50 < 20) }"; then
		pass "$T: idle USSD round trip SMPP -> bearerbox -> box -> spazad -> back: ${res#load: }"
	else
		fail "$T: idle USSD round trip through the box: expected p50 under 20 ms, got <${res:-$(tail -2 "$T_TMP/load.out")}>"
	fi
else
	echo "SKIP: $T: tools/spaza-smsc not built: no USSD dialogue through the box"
fi

# ---- 5. bearerbox restarted: spazad reconnects by itself ----
lost_before=$(grep -c 'connection to bearerbox lost' "$A_LOG")
bb_down
if wait_for 5 sh -c "[ \$(grep -c 'connection to bearerbox lost' '$A_LOG') -gt $lost_before ]"; then
	pass "$T: bearerbox's shutdown is seen as a lost connection"
else
	fail "$T: bearerbox's shutdown is seen as a lost connection: no log line (see $A_LOG)"
fi
check_true "$T: spazad keeps running while bearerbox restarts" "it exited" kill -0 "$A_PID"
bb_up || fail "$T: bearerbox restarts"
if wait_for 20 bb_has_box; then
	pass "$T: spazad reconnects to the restarted bearerbox"
else
	fail "$T: spazad reconnects to the restarted bearerbox: not listed within 20 s (see $A_LOG)"
fi
n=$(box_ctr "$A_VTY" reconnects)
check_true "$T: box:reconnects counts it" "got <${n:-none}>" test "${n:-0}" -ge 1
got=$(sms_roundtrip "$PHONE" HELP)
check_match "$T: an SMS after the restart gets its reply" "^Got message 1: <31555 $PHONE text .+" "$got"

OWN_PID=$A_PID OWN_LOG=$A_LOG OWN_PIDF=$A_PIDF
own_down "$T (bearerbox)"

# ---- 6. a fake bearerbox: the frames field by field, a refused MT, malformed frames ----
if command -v python3 >/dev/null; then
	FAKE_BB=$(free_port)
	FB_PHONE=$(t_phone 64)
	cat > "$T_TMP/fake_bb.py" <<'PY'
# Plays bearerbox to one spazad: first a connection that sends an SMS MO and a USSD begin,
# checks the acks and the replies field by field and refuses one reply (nack 1); then one
# connection per malformed frame, each of which spazad must close. Prints what it saw.
import socket, struct, sys, time
port, phone = int(sys.argv[1]), sys.argv[2].encode()
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", port))
ls.listen(4)
ls.settimeout(20)
print("LISTENING", flush=True)
I = lambda i: struct.pack(">i", i)
S = lambda b: I(-1) if b is None else I(len(b)) + b
frame = lambda p: struct.pack(">I", len(p)) + p
SMS = ("sender receiver udhdata msgdata i:time smsc_id smsc_number foreign_id service account id i:sms_type i:mclass "
       "i:mwi i:coding i:compress i:validity i:deferred i:dlr_mask dlr_url i:pid i:alt_dcs i:rpi charset boxc_id binfo "
       "i:msg_left i:priority i:resend_try i:resend_time meta_data").split()
def recvn(c, n):
    b = b""
    while len(b) < n:
        d = c.recv(n - len(b))
        if not d:
            raise EOFError
        b += d
    return b
def read_frame(c):
    return recvn(c, struct.unpack(">I", recvn(c, 4))[0])
def parse(p):
    t, off, v = struct.unpack(">i", p[:4])[0], 4, {}
    names = SMS if t == 2 else ["i:nack", "i:time", "id"] if t == 3 else ["i:load"] if t == 0 else ["i:command", "boxc_id"]
    for nm in names:
        x = struct.unpack(">i", p[off:off + 4])[0]; off += 4
        if nm.startswith("i:"):
            v[nm[2:]] = x
        elif x < 0:
            v[nm] = None
        else:
            v[nm] = p[off:off + x]; off += x
    v["_type"], v["_left"] = t, len(p) - off
    return v
def mo(text, mid, meta=None):
    v = {"sender": phone, "receiver": b"31555", "msgdata": text, "time": 1795536539, "smsc_id": b"link7", "id": mid,
         "sms_type": 0, "coding": 0, "binfo": b"USSD" if meta else None, "meta_data": meta}
    return frame(I(2) + b"".join(I(v.get(n[2:], -1)) if n.startswith("i:") else S(v.get(n)) for n in SMS))
def show(v):
    return " ".join("%s=%s" % (k, v[k].decode() if isinstance(v[k], bytes) else v[k]) for k in sorted(v))

c, _ = ls.accept()
c.settimeout(10)
print("FIRST-FRAME", read_frame(c).hex(), flush=True)
c.sendall(mo(b"HELP", b"00000000-0000-4000-8000-000000000001") +
          mo(b"*120*777#", b"00000000-0000-4000-8000-000000000002", b"?smpp?ussd_service_op=%01&its_session_info=4%01&"))
replies = 0
while replies < 2:
    v = parse(read_frame(c))
    if v["_type"] == 3:
        print("ACK", show({k: v[k] for k in v if not k.startswith("_")}), flush=True)
    elif v["_type"] == 2:
        replies += 1
        kind = "USSD" if v["meta_data"] else "SMS"
        print("MT-" + kind, show({k: v[k] for k in v if not k.startswith("_") and k != "msgdata"}), "left=%d" % v["_left"],
              "text=" + v["msgdata"].decode().split("\n")[0], flush=True)
        c.sendall(frame(I(3) + I(1 if kind == "SMS" else 0) + I(int(time.time())) + S(v["id"])))
time.sleep(0.3)    # the acks reach spazad before the malformed frames start
c.close()

bad = [
    ("oversized", struct.pack(">I", 1 << 20) + b"\0" * 64),
    ("truncated", frame(I(2) + I(10) + b"0821234567" + I(5) + b"31")),
    ("unknown-type", frame(I(9) + I(0))),
]
for name, data in bad:
    c, _ = ls.accept()
    c.settimeout(5)
    read_frame(c)
    c.sendall(data)
    try:
        print(name, "closed" if c.recv(4096) == b"" else "open", flush=True)
    except socket.timeout:
        print(name, "open", flush=True)
    c.close()
PY
	python3 "$T_TMP/fake_bb.py" "$FAKE_BB" "$FB_PHONE" >"$T_TMP/fake_bb.out" 2>&1 &
	FB_PID=$!
	at_exit "kill $FB_PID 2>/dev/null"
	wait_for 5 grep -q LISTENING "$T_TMP/fake_bb.out"
	if own_up badbox " kannel box connect 127.0.0.1 $FAKE_BB"; then
		wait "$FB_PID"
		fb=$(cat "$T_TMP/fake_bb.out")
		check_has "$T: spazad identifies as admin{cmd_identify} with a NULL box id" \
			"FIRST-FRAME 0000000100000003ffffffff" "$fb"
		check_has "$T: the SMS MO is acked: nack 0, its time, its id" \
			"ACK id=00000000-0000-4000-8000-000000000001 nack=0 time=1795536539" "$fb"
		check_has "$T: the USSD MO is acked: nack 0, its time, its id" \
			"ACK id=00000000-0000-4000-8000-000000000002 nack=0 time=1795536539" "$fb"
		mt=$(printf '%s\n' "$fb" | grep '^MT-SMS')
		check_match "$T: the SMS reply is an mt_reply from the short code to the sender on the MO's link, GSM-7, no DLR" \
			"binfo=None boxc_id=None charset=None coding=0 .*dlr_mask=0 .*id=[0-9a-f-]{36} .*meta_data=None .*receiver=$FB_PHONE .*sender=31555 .*sms_type=1 smsc_id=link7 .*udhdata=None validity=-1 left=0 text=Spaza SMS:" "$mt"
		mt=$(printf '%s\n' "$fb" | grep '^MT-USSD')
		check_match "$T: the USSD reply carries ussd_service_op 2, the echoed its_session_info and binfo USSD" \
			"binfo=USSD .*coding=0 .*dlr_mask=0 .*meta_data=\?smpp\?ussd_service_op=%02&its_session_info=%34%01& .*receiver=$FB_PHONE .*sms_type=1 .* left=0 text=Welcome to Spaza" "$mt"
		check_eq "$T: the refused reply is counted in box:nacks, the accepted one in box:acks" "1 1" \
			"$(box_ctr "$OWN_VTY" nacks) $(box_ctr "$OWN_VTY" acks)"
		check_has "$T: the refused reply is logged" "refused by bearerbox (nack 1" "$(cat "$OWN_LOG")"
		check_has "$T: an oversized frame (1 MiB) drops the connection" "oversized closed" "$fb"
		check_has "$T: a truncated sms drops the connection" "truncated closed" "$fb"
		check_has "$T: an unknown message type drops the connection" "unknown-type closed" "$fb"
		check_eq "$T: each is counted in box:bad-frames" 3 "$(box_ctr "$OWN_VTY" bad-frames)"
		check_eq "$T: each is logged with its reason" 3 \
			"$(grep -cE 'frame of 1048576 bytes|malformed frame from bearerbox \(sms\.receiver: truncated\)|unknown message type 9' "$OWN_LOG")"
		check_true "$T: spazad still answers /health after malformed frames" "no 200" \
			curl -sf --noproxy '*' -o /dev/null "$OWN_URL/health"
		own_down "$T (fake bearerbox)"
	else
		fail "$T: a second spazad starts against a fake bearerbox (see $OWN_LOG)"
	fi
else
	echo "SKIP: $T: python3 not installed: no fake bearerbox for the frame-level checks"
fi
exit 0
