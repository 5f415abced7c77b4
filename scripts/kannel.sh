# Kannel (Debian's bearerbox and smsbox) on free loopback ports, for the tests, the demo and the
# benchmark. Source it after lib.sh. The configuration is doc/kannel/smsbox-front.conf or
# doc/kannel/box-front.conf with its @PLACEHOLDERS@ filled in; everything lives under $VAR/NAME/.
#
#   kannel_up NAME SMSC_PORT SPAZA_MO_URL   bearerbox + smsbox, every MO to SPAZA_MO_URL
#   kannel_up NAME SMSC_PORT                bearerbox only (box front: spazad connects to smsbox-port)
#   kannel_wait_smsc [SECONDS]              until the SMPP link is online (the SMSC must be up)
#   kannel_down NAME                        /shutdown on the admin port, then wait for both to exit
#   kannel_alive NAME                       is NAME's bearerbox (and smsbox, if it has one) running?
#   kannel_env NAME                         the exports of kannel_up for a NAME that is running
#
# kannel_up exports KANNEL_DIR, KANNEL_ADMIN_PORT, KANNEL_ADMIN_PASSWORD, KANNEL_SMSBOX_PORT,
# KANNEL_SENDSMS_PORT, KANNEL_SENDSMS_USER, KANNEL_SENDSMS_PASS, KANNEL_SENDSMS_URL, KANNEL_SMSC_ID,
# KANNEL_SMSC_SYSTEM_ID and KANNEL_SMSC_PASSWORD (the last three and KANNEL_LOG_LEVEL may be set
# beforehand). A second kannel_up of the same NAME (a restart) keeps the ports and the store file, so
# spazad's configuration stays valid and queued messages are not lost.

KANNEL_BIN=${KANNEL_BIN:-/usr/sbin}

# Is PID a running process (a zombie counts as gone)?
kannel_pid_alive() {
	local st
	st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	case $st in Z*) return 1 ;; esac
	return 0
}

# kannel_wait SECONDS PID CMD...: poll CMD, give up early when PID died.
kannel_wait() {
	local t=$1 pid=$2; shift 2
	local end=$(( $(date +%s) + t ))
	until "$@" >/dev/null 2>&1; do
		kannel_pid_alive "$pid" || return 1
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.05
	done
}

kannel_listening() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

kannel_status() {
	curl -sf -m 2 "http://127.0.0.1:$KANNEL_ADMIN_PORT/status.txt?password=$KANNEL_ADMIN_PASSWORD"
}

# Free loopback ports that differ from each other and from "$@".
kannel_ports() {
	local n=$1 p taken; shift
	taken=" $* "
	while [ "$n" -gt 0 ]; do
		p=$(free_port)
		case $taken in *" $p "*) continue ;; esac
		taken="$taken$p "
		echo "$p"
		n=$((n - 1))
	done
}

# The last lines of whichever of these logs exist, on stderr.
kannel_tail() {
	local f
	for f in "$@"; do
		[ -s "$f" ] && { say "--- $f"; tail -n 5 "$f" >&2; }
	done
	return 0
}

kannel_sed_escape() { printf '%s' "$1" | sed -e 's/[|&\\]/\\&/g'; }

kannel_up() {
	local name=$1 smsc_port=$2 mo_url=${3:-} dir=$VAR/$1 front=box ports
	[ -n "$mo_url" ] && front=smsbox
	[ -x "$KANNEL_BIN/bearerbox" ] || die "bearerbox not found: install the Debian package kannel"
	mkdir -p "$dir"
	[ -f "$dir/bearerbox.pid" ] && kannel_down "$name"

	export KANNEL_LOG_LEVEL=${KANNEL_LOG_LEVEL:-1}
	# A restart keeps its ports while nobody else has taken them.
	if [ -f "$dir/ports" ]; then
		kannel_env "$name"
		if kannel_listening "$KANNEL_ADMIN_PORT" || kannel_listening "$KANNEL_SMSBOX_PORT" ||
			kannel_listening "$KANNEL_SENDSMS_PORT"; then
			rm -f "$dir/ports"
		fi
	fi
	if [ ! -f "$dir/ports" ]; then
		ports=$(kannel_ports 3 "$smsc_port")
		# the sendsms password is >= 16 bytes: a secrets-file key
		echo $ports "adm$RANDOM$RANDOM" "snd$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')" > "$dir/ports"
	fi
	kannel_env "$name"

	sed -e "s|@ADMIN_PORT@|$KANNEL_ADMIN_PORT|g" \
	    -e "s|@ADMIN_PASSWORD@|$KANNEL_ADMIN_PASSWORD|g" \
	    -e "s|@SMSBOX_PORT@|$KANNEL_SMSBOX_PORT|g" \
	    -e "s|@SENDSMS_PORT@|$KANNEL_SENDSMS_PORT|g" \
	    -e "s|@SENDSMS_USER@|$KANNEL_SENDSMS_USER|g" \
	    -e "s|@SENDSMS_PASS@|$KANNEL_SENDSMS_PASS|g" \
	    -e "s|@SMSC_PORT@|$smsc_port|g" \
	    -e "s|@SMSC_ID@|$(kannel_sed_escape "$KANNEL_SMSC_ID")|g" \
	    -e "s|@SMSC_SYSTEM_ID@|$(kannel_sed_escape "$KANNEL_SMSC_SYSTEM_ID")|g" \
	    -e "s|@SMSC_PASSWORD@|$(kannel_sed_escape "$KANNEL_SMSC_PASSWORD")|g" \
	    -e "s|@LOG_LEVEL@|$KANNEL_LOG_LEVEL|g" \
	    -e "s|@DIR@|$(kannel_sed_escape "$dir")|g" \
	    -e "s|@SPAZA_MO_URL@|$(kannel_sed_escape "$mo_url")|g" \
	    "$SPAZA_TOP/doc/kannel/$front-front.conf" > "$dir/kannel.conf"
	! grep -n '^[^#]*@[A-Z_]*@' "$dir/kannel.conf" >&2 || die "unfilled placeholder in $dir/kannel.conf"

	# -v 4: console logging is debug whatever log-level says, and would halve throughput.
	"$KANNEL_BIN/bearerbox" -v 4 "$dir/kannel.conf" </dev/null >"$dir/bearerbox.out" 2>&1 &
	echo $! > "$dir/bearerbox.pid"
	kannel_wait 30 "$(cat "$dir/bearerbox.pid")" kannel_status &&
		kannel_wait 10 "$(cat "$dir/bearerbox.pid")" kannel_listening "$KANNEL_SMSBOX_PORT" ||
		{ kannel_tail "$dir/bearerbox.out" "$dir/bearerbox.log"; kannel_down "$name";
		  die "bearerbox did not come up (see $dir/bearerbox.log)"; }
	[ "$front" = smsbox ] || return 0

	# smsbox gives up at once when bearerbox's smsbox-port is not listening: it is, by now.
	"$KANNEL_BIN/smsbox" -v 4 "$dir/kannel.conf" </dev/null >"$dir/smsbox.out" 2>&1 &
	echo $! > "$dir/smsbox.pid"
	kannel_wait 30 "$(cat "$dir/smsbox.pid")" kannel_listening "$KANNEL_SENDSMS_PORT" &&
		kannel_wait 10 "$(cat "$dir/smsbox.pid")" kannel_smsbox_connected ||
		{ kannel_tail "$dir/smsbox.out" "$dir/smsbox.log"; kannel_down "$name";
		  die "smsbox did not come up (see $dir/smsbox.log)"; }
}

kannel_alive() {
	local dir=$VAR/$1 f
	[ -f "$dir/bearerbox.pid" ] && [ -f "$dir/ports" ] || return 1
	for f in bearerbox smsbox; do
		[ -f "$dir/$f.pid" ] || continue
		kannel_pid_alive "$(cat "$dir/$f.pid")" || return 1
	done
}

# What kannel_up exported, for a Kannel that an earlier run started (./scripts/run keeps it running).
kannel_env() {
	local dir=$VAR/$1
	export KANNEL_DIR=$dir
	export KANNEL_SMSC_ID=${KANNEL_SMSC_ID:-sim}
	export KANNEL_SMSC_SYSTEM_ID=${KANNEL_SMSC_SYSTEM_ID:-spaza}
	export KANNEL_SMSC_PASSWORD=${KANNEL_SMSC_PASSWORD:-spaza1}	# SMPP allows 8 characters
	read -r KANNEL_ADMIN_PORT KANNEL_SMSBOX_PORT KANNEL_SENDSMS_PORT KANNEL_ADMIN_PASSWORD \
		KANNEL_SENDSMS_PASS < "$dir/ports"
	export KANNEL_ADMIN_PORT KANNEL_SMSBOX_PORT KANNEL_SENDSMS_PORT KANNEL_ADMIN_PASSWORD KANNEL_SENDSMS_PASS
	export KANNEL_SENDSMS_USER=spaza
	export KANNEL_SENDSMS_URL=http://127.0.0.1:$KANNEL_SENDSMS_PORT/cgi-bin/sendsms
}

# bearerbox lists a connected smsbox under "Box connections" as "smsbox:..., IP 127.0.0.1 (on-line ...)".
kannel_smsbox_connected() { kannel_status | grep -q 'smsbox:.*on-line'; }

kannel_wait_smsc() {
	wait_for "${1:-30}" sh -c "curl -sf -m 2 'http://127.0.0.1:$KANNEL_ADMIN_PORT/status.txt?password=$KANNEL_ADMIN_PASSWORD' |
		grep -q '^ *$KANNEL_SMSC_ID\[.*online'"
}

kannel_down() {
	local dir=$VAR/$1 admin pw pids="" pid
	[ -f "$dir/ports" ] && read -r admin _ _ pw _ < "$dir/ports"
	for f in smsbox bearerbox; do
		[ -f "$dir/$f.pid" ] && pids="$pids $(cat "$dir/$f.pid")"
	done
	[ -n "$pids" ] || return 0
	[ -n "${admin:-}" ] && curl -sf -m 5 -o /dev/null "http://127.0.0.1:$admin/shutdown?password=$pw" || true
	for pid in $pids; do
		local end=$(( $(date +%s) + 20 ))
		while kannel_pid_alive "$pid" && [ "$(date +%s)" -lt "$end" ]; do sleep 0.05; done
		if kannel_pid_alive "$pid"; then
			say "kannel: $pid did not stop after /shutdown, killing it"
			kill -9 "$pid" 2>/dev/null || true
		fi
		wait "$pid" 2>/dev/null || true	# reap it when it is our child
	done
	rm -f "$dir/smsbox.pid" "$dir/bearerbox.pid"
}
