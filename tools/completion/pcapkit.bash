# bash completion for pcapkit's tools: pcap-merge, pcap-filter, pcap-summary
# and pcap-fetch.  make install puts this one file under each tool's name in
# $(PREFIX)/share/bash-completion/completions, where bash-completion loads
# it when that tool is first completed.  zsh: autoload -U bashcompinit &&
# bashcompinit, then source this file.
#
# The options offered are those the tool's own --help lists, so they cannot
# drift from it; the values are completed here: -F formats, -I modes,
# --layer, --proto, pcap-fetch's commands, files and directories.

_pcapkit_opts() {
	# every option word in the tool's --help, once
	"$1" --help 2>/dev/null | grep -oE -- '(^|[][ ,|])--?[A-Za-z][-A-Za-z]*' |
	    sed 's/^[][ ,|]*//' | sort -u
}

_pcapkit() {
	local cur prev cmd i
	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}
	cmd=${COMP_WORDS[0]##*/}

	case $prev in
	-F)
		[ "$cmd" != pcap-fetch ] &&
		    COMPREPLY=($(compgen -W "pcap nsecpcap pcapng" -- "$cur"))
		return ;;
	-I)
		COMPREPLY=($(compgen -W "any all none" -- "$cur")); return ;;
	--layer)
		COMPREPLY=($(compgen -W "outer inner any" -- "$cur")); return ;;
	--proto)
		COMPREPLY=($(compgen -W "tcp udp icmp icmp6 gre esp ah sctp" \
		    -- "$cur")); return ;;
	--type)
		COMPREPLY=($(compgen -W "simple full" -- "$cur")); return ;;
	--status)
		COMPREPLY=($(compgen -W "pending running conversion_pending \
conversion_running success failed" -- "$cur")); return ;;
	--tmpdir|-o|--output)
		COMPREPLY=($(compgen -d -- "$cur")); compopt -o filenames 2>/dev/null
		return ;;
	-w|-r|-V|--expect|--from-capture|--clock-offsets)
		# -V is a file list in pcap-filter only
		if [ "$prev" != -V ] || [ "$cmd" = pcap-filter ]; then
			COMPREPLY=($(compgen -f -- "$cur"))
			compopt -o filenames 2>/dev/null
			return
		fi ;;
	-A|-B|-c|-i|-s|-e|-f|-j|--start|--stop|--split-packets|--split-seconds|\
	--src|--dst|--sport|--dport|--host|--port|--flows|--tolerance|\
	--threads|--max-loss|--max-clock-offset|--dedup-window|--limit|\
	--timeout|--interval|--include|--exclude|--time-limit|--packet-limit|\
	--byte-limit|--colo|--dest|--offset-time|--account|--retries|\
	--page-size|--system|--max-pages|--max-objects|--max-size|\
	--connect-timeout|--request-timeout|--speed-limit|--speed-time)
		# a value: nothing to offer (but -c, -i, -e, -s are flags in
		# pcap-summary and -c in pcap-filter)
		case $cmd:$prev in
		pcap-summary:-[cies]|pcap-filter:-c) ;;
		*) return ;;
		esac ;;
	esac

	if [ "$cmd" = pcap-fetch ] && [ "$COMP_CWORD" = 1 ]; then
		COMPREPLY=($(compgen -W "list show wait get bucket create stop \
--help --version" -- "$cur"))
		return
	fi
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_pcapkit_opts "${COMP_WORDS[0]}")" \
		    -- "$cur"))
		return
	fi
	[ "$cmd" = pcap-fetch ] && return
	COMPREPLY=($(compgen -f -- "$cur"))
	compopt -o filenames 2>/dev/null
}

complete -F _pcapkit pcap-merge pcap-filter pcap-summary pcap-fetch
