# shellcheck shell=bash
# Shell helpers shared by deploy/local/services and deploy/local/stack. Sourced, not run.
# The sourcing script sets script_name, the prefix of every message.
#
# Every process is started detached (its own session, standard input from /dev/null, output to a
# log file) with its pid in a pid file. A pid file counts as running only while that pid is alive
# and its working directory is the folder the scripts started it in, so a pid reused by an
# unrelated process is never signalled.

# Messages go to standard error; standard output carries only KEY=value lines.
# shellcheck disable=SC2154 # script_name is set by the sourcing script.
note() { printf '%s: %s\n' "$script_name" "$*" >&2; }

die() {
  note "$*"
  exit 1
}

# Prints the last lines of a log file to standard error, indented.
show_log_tail() {
  local log=$1 lines=${2:-30}
  if [[ -s "$log" ]]; then
    printf '%s: last %s lines of %s:\n' "$script_name" "$lines" "$log" >&2
    tail -n "$lines" "$log" | sed 's/^/    /' >&2
  else
    printf '%s: %s is empty or missing\n' "$script_name" "$log" >&2
  fi
}

# Prints N distinct TCP ports that are free on 127.0.0.1 right now, one a line. Ports come from
# 20000-32767, below Linux's default ephemeral range, so outgoing connections do not take them
# between this check and the server's bind. Preferred ports (arguments after N) come first when
# they are still free, so a restarted service keeps its address.
pick_free_ports() {
  python3 - "$@" << 'EOF'
import random
import socket
import sys

count = int(sys.argv[1])
preferred = [int(p) if p.isdigit() else 0 for p in sys.argv[2:]]
bound_sockets = []
ports = [0] * count

def try_bind(port):
    # SO_REUSEADDR as the servers set it, so a port in TIME-WAIT counts as free.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError:
        sock.close()
        return False
    bound_sockets.append(sock)
    return True

# Each position keeps its role: a preferred port that is taken is replaced by a random one in the
# same position, so the other services keep theirs.
for index in range(count):
    port = preferred[index] if index < len(preferred) else 0
    if port and port not in ports and try_bind(port):
        ports[index] = port
attempts = 0
for index in range(count):
    while not ports[index]:
        attempts += 1
        if attempts > 1000:
            sys.exit("no free TCP port found on 127.0.0.1 in 20000-32767")
        port = random.randint(20000, 32767)
        if port not in ports and try_bind(port):
            ports[index] = port
for sock in bound_sockets:
    sock.close()
print("\n".join(str(p) for p in ports))
EOF
}

# Starts a command detached and writes its pid to PIDFILE.
#   start_detached PIDFILE LOGFILE WORKDIR [VAR=value...] -- COMMAND [ARG...]
start_detached() {
  local pidfile=$1 log=$2 workdir=$3
  shift 3
  local -a environment=()
  while [[ $1 != -- ]]; do
    environment+=("$1")
    shift
  done
  shift

  rm -f "$pidfile"
  # setsid forks when the caller leads a process group, so the child writes its own pid before
  # exec instead of the script trusting $!.
  (
    cd "$workdir" || exit 1
    # shellcheck disable=SC2016 # $$ and $@ belong to the inner bash.
    exec env "${environment[@]}" setsid bash -c 'echo $$ > "$0"; exec "$@"' "$pidfile" "$@" \
      >> "$log" 2>&1 < /dev/null
  ) &

  local waited=0
  while [[ ! -s "$pidfile" ]]; do
    if ((waited >= 100)); then
      die "no pid file $pidfile after 5 s while starting $1"
    fi
    sleep 0.05
    waited=$((waited + 1))
  done
}

# Succeeds when PID exists and is not a zombie (exited but not yet reaped by its parent).
process_alive() {
  local state
  # The state follows the command name, which is in parentheses and may contain spaces.
  state=$(sed 's/^.*) //' "/proc/$1/stat" 2> /dev/null | cut -d ' ' -f 1)
  [[ -n $state && $state != Z ]]
}

# Prints the pid in PIDFILE when that process runs in WORKDIR; fails otherwise.
running_pid() {
  local pidfile=$1 workdir=$2 pid
  [[ -s "$pidfile" ]] || return 1
  pid=$(< "$pidfile")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  process_alive "$pid" || return 1
  [[ $(readlink "/proc/$pid/cwd" 2> /dev/null) == "$workdir" ]] || return 1
  echo "$pid"
}

# Sends SIGTERM to each running pid file's process, waits up to TIMEOUT seconds for all of them,
# then sends SIGKILL to what is left. Removes the pid files.
#   stop_processes TIMEOUT PIDFILE:WORKDIR...
stop_processes() {
  local timeout=$1
  shift
  local entry pid
  local -a pids=()
  for entry in "$@"; do
    if pid=$(running_pid "${entry%%:*}" "${entry#*:}"); then
      kill -TERM "$pid" 2> /dev/null || true
      pids+=("$pid")
    fi
  done

  local deadline=$((SECONDS + timeout)) alive
  while :; do
    alive=()
    for pid in "${pids[@]}"; do
      if process_alive "$pid"; then
        alive+=("$pid")
      fi
    done
    ((${#alive[@]} == 0)) && break
    if ((SECONDS >= deadline)); then
      note "still running after ${timeout} s, sending SIGKILL to: ${alive[*]}"
      kill -KILL "${alive[@]}" 2> /dev/null || true
      break
    fi
    sleep 0.1
  done

  for entry in "$@"; do
    rm -f "${entry%%:*}"
  done
}

# Prints a random lowercase hex string of BYTES bytes.
random_hex() {
  od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'
}

# Prints seconds elapsed since a start time taken from $EPOCHREALTIME, with one decimal.
elapsed_since() {
  awk -v start="$1" -v now="$EPOCHREALTIME" 'BEGIN { printf "%.1f", now - start }'
}
