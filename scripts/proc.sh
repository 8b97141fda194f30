# scripts/proc.sh - process and port helpers, sourced by scripts/run.sh, tests/stack.sh,
# tests/lib.sh and tests/bench/rabbit.sh so every one starts and stops servers alike.
# Loopback only. Defines:
#   free_port                        print a port that is free on 127.0.0.1 right now
#   port_open PORT [HOST]            true when something accepts on HOST:PORT
#   wait_port PORT [SECONDS] [PID]   until PORT accepts; with PID, fail as soon as that
#                                    process has exited (it lost its port, say)
#   stop_pid PID [SECONDS] [SIGNAL]  SIGNAL (TERM), wait up to SECONDS (5), then KILL;
#                                    a process that needed the KILL is named on stderr
#                                    and the status is 1 (it hung on shutdown, or its
#                                    sanitizer exit checks took too long), else 0
#   stop_pidfile FILE [SIGNAL] [SECONDS]  stop_pid on the pid in FILE (a stopped one,
#                                    kill -STOP, is continued first), then remove FILE;
#                                    same status. A process that started after FILE was
#                                    written is not the one it names (the pid was reused:
#                                    pid_max may be small and other test runs are busy):
#                                    it is left alone, with a note on stderr

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

port_open() {
    (exec 3<>/dev/tcp/"${2:-127.0.0.1}"/"$1") 2>/dev/null
}

wait_port() {
    local port=$1 t=${2:-15} pid=${3:-} i
    for ((i = 0; i < t * 20; i++)); do
        if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then return 1; fi
        if port_open "$port"; then
            # Ours, not someone else's listener on a port we lost the race for?
            [ -z "$pid" ] || { sleep 0.05; kill -0 "$pid" 2>/dev/null; } || return 1
            return 0
        fi
        sleep 0.05
    done
    echo "nothing listens on 127.0.0.1:$port after ${t}s" >&2
    return 1
}

stop_pid() {
    local pid=${1:-} t=${2:-5} sig=${3:-TERM} i
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
    kill -"$sig" "$pid" 2>/dev/null || true
    for ((i = 0; i < t * 20; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.05; done
    kill -0 "$pid" 2>/dev/null || return 0
    echo "proc: pid $pid ($(ps -o comm= -p "$pid" 2>/dev/null || echo '?')) still running ${t}s after SIG$sig: sending SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
    return 1
}

stop_pidfile() {
    [ -f "$1" ] || return 0
    local pid rc=0
    pid=$(cat "$1")
    local age mtime now
    age=$(ps -o etimes= -p "$pid" 2>/dev/null | tr -d ' ')
    if [ -n "$age" ]; then
        now=$(date +%s)
        mtime=$(stat -c %Y "$1")
        if [ $((now - age)) -gt $((mtime + 2)) ]; then
            echo "proc: pid $pid in $1 is a newer process ($(ps -o comm= -p "$pid")): reused pid, left alone" >&2
            rm -f "$1"
            return 0
        fi
    fi
    [ -n "$pid" ] && kill -CONT "$pid" 2>/dev/null || true
    stop_pid "$pid" "${3:-5}" "${2:-TERM}" || rc=1
    rm -f "$1"
    return $rc
}
