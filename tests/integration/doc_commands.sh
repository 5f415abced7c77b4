#!/usr/bin/env bash
# Every shell command in README.md and doc/*.md runs as written, against the suite's spazad.
#
# Which lines are commands: in a code block (fenced, or indented four spaces), a line that starts
# with "$ " (a console example: the lines after it are its output), or, in a block with no "$ "
# lines, a line whose first word is one of the commands of this project (curl, ./src/spazactl,
# ./tools/..., ./scripts/..., psql, make, source, ... : COMMAND_WORDS below) or that only sets a
# shell variable (NAME=value, no blank in the value; "c=16   147876 ..." is a table of output). A line ending in "\"
# goes on on the next one. Configuration, transcripts, YAML and output are none of these, and a
# block with a VTY prompt ("spazad> ", "spazad# ") is a VTY session, not shell.
#
# What does not run here (the convention the docs follow, visible to every reader):
#   - a block whose first line is a comment with "not run in CI" in it, with the reason:
#       # not run in CI: installs packages
#   - one command whose trailing comment says "(not run in CI)".
#
# How they run: the commands of one block in one bash, in order, as a reader types them into one
# terminal (variables and sourced functions carry over; a block's background jobs are stopped at
# its end). The directory is a scratch copy of the tree's shape (src/, tools/, scripts/, menus/,
# doc/, tests/ linked) whose var/spazad.cfg is the suite's configuration, so `./src/spazactl` with
# no -c talks to the suite's database as it would to the demo's; the demo's addresses in the text
# (127.0.0.1:8180, the VTY's 4265) become the suite daemon's. Prints one PASS:/FAIL: line per command.
source "$(dirname "$0")/lib.sh"
T=doc

COMMAND_WORDS='curl|\./src/[a-z-]+|src/[a-z-]+|\./tools/[a-z-]+|tools/[a-z-]+|\./scripts/[a-z-]+|scripts/[a-z-]+|spazactl|spazad|spaza-phone|spaza-smsc|spaza-load|psql|make|source|telnet|openssl|printf|kannel_up|kannel_down|kannel_wait_smsc|bearerbox|smsbox|apt-get|sudo|autoreconf'

: "${SPAZA_CFG:?run by scripts/test: SPAZA_CFG, SPAZA_URL and SPAZA_VTY_PORT name the suite daemon}"

# ---- the scratch tree ----
W=$T_TMP/tree
mkdir -p "$W/var"
for d in src tools scripts menus doc tests sql fuzz; do ln -s "$SPAZA_TOP/$d" "$W/$d"; done
cp "$SPAZA_CFG" "$W/var/spazad.cfg"
cp "$(dirname "$SPAZA_CFG")/secrets" "$W/var/secrets" 2>/dev/null
cp "$SPAZA_PIDFILE" "$W/var/spazad.pid"	# kill -HUP $(cat var/spazad.pid) reloads the suite's spazad
HTTP_PORT=${SPAZA_URL##*:}

# doc_extract FILE: "LINE<TAB>BLOCK<TAB>SKIP<TAB>COMMAND" for every command of FILE; SKIP is 1 for
# a command the convention above keeps out of here.
doc_extract() {
	awk -v words="^($COMMAND_WORDS)( |$)" '
	function flush(   i, n, c, start, skip, prompt, cont, cmd, line) {
		if (nb == 0) return
		prompt = 0
		for (i = 1; i <= nb; i++) {
			if (b[i] ~ /^\$ /) prompt = 1
			if (b[i] ~ /^[a-z]+(\([a-z-]+\))?[>#] /) { nb = 0; return }
		}
		skip = 0
		for (i = 1; i <= nb; i++) if (b[i] !~ /^[ \t]*$/) { if (b[i] ~ /^#.*not run in CI/) skip = 1; break }
		cont = 0
		for (i = 1; i <= nb; i++) {
			line = b[i]
			if (cont) {
				cmd = cmd "\n" line
			} else if (prompt && line ~ /^\$ /) {
				cmd = substr(line, 3); start = bl[i]
			} else if (!prompt && (line ~ words || line ~ /^[A-Za-z_][A-Za-z0-9_]*=[^ \t]*([ \t]+#.*)?$/)) {
				cmd = line; start = bl[i]
			} else {
				continue
			}
			cont = line ~ /\\$/
			if (cont) continue
			c = cmd; gsub(/\n/, "\\n", c)
			printf "%d\t%d\t%d\t%s\n", start, blockno, skip || cmd ~ /#.*\(not run in CI/, c
		}
		nb = 0
	}
	BEGIN { fenced = 0; nb = 0; blockno = 0; prevblank = 1 }
	/^```/ {
		if (fenced) { flush(); fenced = 0 } else { flush(); fenced = 1; blockno++ }
		prevblank = 0; next
	}
	fenced { b[++nb] = $0; bl[nb] = NR; next }
	/^    / && (nb > 0 || prevblank) {
		if (nb == 0) blockno++
		b[++nb] = substr($0, 5); bl[nb] = NR; prevblank = 0; next
	}
	/^[ \t]*$/ { if (nb > 0) { b[++nb] = ""; bl[nb] = NR } prevblank = 1; next }
	{ flush(); prevblank = 0 }
	END { flush() }
	' "$1"
}

# The demo's addresses in a command become the suite daemon's.
localise() {
	sed -e "s|127\.0\.0\.1:8180|127.0.0.1:$HTTP_PORT|g" -e "s|127\.0\.0\.1 4265|127.0.0.1 $SPAZA_VTY_PORT|g"
}

# run_block FILE BLOCK: the commands of one block, one bash; a PASS/FAIL line per command.
run_block() {
	local file=$1 blk=$2 script=$T_TMP/block.sh n=0 line skip cmd rc out why
	{
		echo "cd '$W' || exit 99"
		echo "export PATH='$SPAZA_TOP/src:$SPAZA_TOP/tools':\$PATH"
		while IFS=$'\t' read -r line _ skip cmd; do
			n=$((n + 1))
			[ "$skip" = 1 ] && continue
			printf '{\n%s\n} </dev/null >%s/out.%d 2>&1; echo "$?" >%s/rc.%d\n' \
				"$(printf '%b' "${cmd//\\\\n/\\n}" | localise)" "$T_TMP" "$n" "$T_TMP" "$n"
		done < <(awk -F'\t' -v b="$blk" '$2 == b' "$T_TMP/cmds")
	} > "$script"
	rm -f "$T_TMP"/rc.* "$T_TMP"/out.*
	# its own process group: whatever the block left in the background goes with it
	setsid timeout -k 5 180 bash "$script" >/dev/null 2>&1 &
	local pid=$!
	wait "$pid"
	kill -- -"$pid" 2>/dev/null
	n=0
	while IFS=$'\t' read -r line _ skip cmd; do
		n=$((n + 1))
		cmd=${cmd//\\n/ }
		[ ${#cmd} -gt 110 ] && cmd="${cmd:0:110}..."
		if [ "$skip" = 1 ]; then
			echo "skipped (not run in CI): $file:$line: $cmd" >> "$T_TMP/skipped"
			continue
		fi
		rc=$(cat "$T_TMP/rc.$n" 2>/dev/null)
		if [ "$rc" = 0 ]; then
			pass "$T: $file:$line: $cmd"
		else
			out=$(tail -n 3 "$T_TMP/out.$n" 2>/dev/null | tr -d '\000')
			why=${rc:+exit $rc}
			fail "$T: $file:$line: $cmd: ${why:-did not run (the block timed out or stopped before it)}: $(oneline "$out")"
		fi
	done < <(awk -F'\t' -v b="$blk" '$2 == b' "$T_TMP/cmds")
}

cd "$SPAZA_TOP" || exit 1
total=0
for f in README.md doc/*.md; do
	doc_extract "$f" > "$T_TMP/cmds"
	total=$((total + $(wc -l < "$T_TMP/cmds")))
	for blk in $(cut -f2 "$T_TMP/cmds" | uniq); do
		run_block "$f" "$blk"
	done
done
check_true "$T: the docs have commands to check" "found none: is the extraction broken?" [ "$total" -gt 20 ]
# The skipped ones are listed in the test's log (stderr), not counted: the suite's SKIP lines are
# for tests that could not run.
[ -f "$T_TMP/skipped" ] && cat "$T_TMP/skipped" >&2
exit 0
