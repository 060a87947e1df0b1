#!/usr/bin/env bash
# deploy/local/servers.sh: the local Kafka broker and MongoDB-protocol server (FerretDB)
# that tissflow uses for development and tests on a machine without Docker.
#
#   servers.sh install   resolve the Kafka jars (Maven Central) and build FerretDB (Go
#                        module proxy); cached, a second run takes about a second
#   servers.sh start     start both (or whichever is not running: a crashed one is
#                        restarted) in the background and wait until they are ready
#   servers.sh stop [kafka|ferretdb]
#                        stop both, or one (SIGTERM, then SIGKILL after 15 s)
#   servers.sh status    one line per server
#   servers.sh reset     stop, then delete data, logs and generated config
#
# Configuration (environment variables, defaults in brackets):
#   TISSFLOW_STATE_DIR              data, logs, pid files, generated config [<repo>/.local]
#                                   (a relative path is taken relative to the repo root)
#   TISSFLOW_KAFKA_PORT             Kafka client listener on 127.0.0.1 [9092]
#   TISSFLOW_KAFKA_CONTROLLER_PORT  KRaft controller listener on 127.0.0.1 [9093]
#   TISSFLOW_MONGO_PORT             FerretDB listener on 127.0.0.1 [27017]
#   TISSFLOW_START_TIMEOUT          seconds `start` waits for readiness [60]
#
# Several sets of servers can run side by side (e.g. the test suite's isolated set with
# TISSFLOW_STATE_DIR=.local/test and other ports): everything a set writes lives under
# its state dir. The installed software is shared by all sets and always lives under
# <repo>/.local (kafka/libs, bin/ferretdb, build/).

set -euo pipefail

KAFKA_VERSION=4.1.1          # keep in step with kafka.version in pom.xml
FERRETDB_VERSION=v1.24.2     # last FerretDB line with the embedded SQLite backend
FERRETDB_MODULE=github.com/FerretDB/FerretDB
# Our patches to its SQLite backend (deploy/local/ferretdb/*.patch, ADR 0015): lookups,
# updates and deletes by _id use the _id index, equality on a field that leads an
# index reads that index instead of the whole table, a sorted page is read in the order
# of an index up to its end, and a count the index decides is SQLite's COUNT. Bump the
# suffix when they change.
FERRETDB_BUILD="$FERRETDB_VERSION-tissflow.3"

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"

# Shared installation (independent of TISSFLOW_STATE_DIR).
INSTALL_DIR="$REPO_ROOT/.local"
KAFKA_LIBS="$INSTALL_DIR/kafka/libs"
KAFKA_MARKER="$INSTALL_DIR/kafka/.installed-kafka-$KAFKA_VERSION"
FERRETDB_BIN="$INSTALL_DIR/bin/ferretdb"
FERRETDB_SRC="$INSTALL_DIR/build/ferretdb-src"

# Per-set state.
STATE="${TISSFLOW_STATE_DIR:-$INSTALL_DIR}"
case "$STATE" in
    /*) ;;
    *) STATE="$REPO_ROOT/$STATE" ;;
esac
KAFKA_PORT="${TISSFLOW_KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${TISSFLOW_KAFKA_CONTROLLER_PORT:-9093}"
MONGO_PORT="${TISSFLOW_MONGO_PORT:-27017}"
START_TIMEOUT="${TISSFLOW_START_TIMEOUT:-60}"

KAFKA_DIR="$STATE/kafka"                      # server.properties, data/
KAFKA_DATA="$KAFKA_DIR/data"
KAFKA_CONFIG="$KAFKA_DIR/server.properties"
FERRETDB_DIR="$STATE/ferretdb"                # data/ (SQLite files), state/
LOG_DIR="$STATE/logs"
RUN_DIR="$STATE/run"
KAFKA_LOG="$LOG_DIR/kafka.log"
FERRETDB_LOG="$LOG_DIR/ferretdb.log"
KAFKA_PID="$RUN_DIR/kafka.pid"
FERRETDB_PID="$RUN_DIR/ferretdb.pid"
# Size of kafka.log when the broker was launched: readiness is the "Kafka Server started"
# line written after that offset.
KAFKA_LOG_OFFSET="$RUN_DIR/kafka.log-offset"

log() { printf '==> %s\n' "$*"; }
die() { printf 'servers.sh: %s\n' "$*" >&2; exit 1; }

# Serialise commands that change things (install per machine, start/stop per state
# dir), so that parallel callers (several test workers, say) do not race. The servers
# must not inherit the lock's descriptor (see `{LOCK_FD}>&-` below), or they would hold
# the lock for as long as they run.
lock() { # lock <file> <timeout seconds>
    mkdir -p "$(dirname "$1")"
    exec {LOCK_FD}>"$1"
    flock -w "$2" "$LOCK_FD" || die "another servers.sh has held $1 for $2 s; giving up"
}

port_open() { # port_open <port>: true if something accepts connections on 127.0.0.1:<port>
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# alive <pid>: the process exists and is not a zombie waiting to be reaped.
# (`read` with a redirection, not `$(<file)`: under `set -e` bash 5.2 ends the whole
# script when `$(<file)` cannot open the file, so a stale pid file naming a dead process
# made `start` fail instead of restarting the server.)
alive() {
    local stat
    { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
    stat=${stat##*) }
    [[ ${stat:0:1} != Z ]]
}

# pid_of <name>: prints the pid from the pid file if that process is alive and is ours.
pid_of() {
    local pidfile pattern pid
    case "$1" in
        kafka) pidfile=$KAFKA_PID; pattern=kafka.Kafka ;;
        ferretdb) pidfile=$FERRETDB_PID; pattern=ferretdb ;;
    esac
    [[ -s $pidfile ]] || return 1
    pid=$(<"$pidfile")
    [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" || return 1
    # Guard against a recycled pid: the command line must still be the server's.
    local cmdline
    cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
    [[ $cmdline == *"$pattern"* ]] || return 1
    echo "$pid"
}

# ---------------------------------------------------------------------------- install

install_kafka() {
    if [[ -f $KAFKA_MARKER ]] && compgen -G "$KAFKA_LIBS/kafka_2.13-$KAFKA_VERSION.jar" >/dev/null; then
        log "Kafka $KAFKA_VERSION: jars already in $KAFKA_LIBS"
        return
    fi
    command -v mvn >/dev/null || die "mvn (Maven) is needed to resolve the Kafka jars"
    command -v java >/dev/null || die "java (17+) is needed to run Kafka"
    log "Kafka $KAFKA_VERSION: resolving jars from Maven Central"
    local tmp="$KAFKA_LIBS.tmp.$$"
    rm -rf "$tmp"
    mkdir -p "$tmp"
    # Maven's output goes to a file (its -q mode still prints stray colour codes) and
    # is shown only if it fails.
    local mvn_log="$INSTALL_DIR/kafka/mvn.log"
    mvn -q -B -f "$SCRIPT_DIR/pom.xml" dependency:copy-dependencies \
        -Dkafka.version="$KAFKA_VERSION" -DoutputDirectory="$tmp" -DincludeScope=runtime \
        >"$mvn_log" 2>&1 \
        || { cat "$mvn_log" >&2; rm -rf "$tmp"; die "Maven could not resolve kafka_2.13:$KAFKA_VERSION"; }
    rm -rf "$KAFKA_LIBS" "$INSTALL_DIR"/kafka/.installed-kafka-*
    mv "$tmp" "$KAFKA_LIBS"
    touch "$KAFKA_MARKER"
    log "Kafka $KAFKA_VERSION: $(find "$KAFKA_LIBS" -name '*.jar' | wc -l) jars in $KAFKA_LIBS"
}

ferretdb_installed() {
    # Capture first (see kafka_ready on `| grep -q` under pipefail).
    local out
    [[ -x $FERRETDB_BIN ]] && out=$("$FERRETDB_BIN" --version 2>/dev/null) || return 1
    [[ $'\n'$out$'\n' == *$'\n'"version: $FERRETDB_BUILD"$'\n'* ]]
}

install_ferretdb() {
    if ferretdb_installed; then
        log "FerretDB $FERRETDB_BUILD: already built at $FERRETDB_BIN"
        return
    fi
    command -v go >/dev/null || die "go is needed to build FerretDB"
    log "FerretDB $FERRETDB_VERSION: downloading the module from the Go module proxy"
    # Go's chatter ("go: downloading ...", one line per module) goes to a file that is
    # shown only on failure.
    mkdir -p "$INSTALL_DIR/build"
    local go_log="$INSTALL_DIR/build/go.log" dir
    dir=$(go mod download -json "$FERRETDB_MODULE@$FERRETDB_VERSION" 2>"$go_log" |
        sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p') || true
    [[ -n $dir && -d $dir ]] || { cat "$go_log" >&2; die "go mod download did not report a Dir for $FERRETDB_MODULE@$FERRETDB_VERSION"; }
    # `go install ...@version` would build a binary that panics at start: the module
    # ships no build/version/version.txt, which the binary embeds. Build from a copy.
    rm -rf "$FERRETDB_SRC"
    mkdir -p "$(dirname "$FERRETDB_SRC")" "$(dirname "$FERRETDB_BIN")"
    cp -R "$dir" "$FERRETDB_SRC"
    chmod -R u+w "$FERRETDB_SRC"
    local patch
    for patch in "$SCRIPT_DIR"/ferretdb/*.patch; do
        patch -s -p1 -d "$FERRETDB_SRC" <"$patch" >>"$go_log" 2>&1 \
            || { tail -n 20 "$go_log" >&2; die "applying $patch to FerretDB failed"; }
    done
    printf '%s\n' "$FERRETDB_BUILD" >"$FERRETDB_SRC/build/version/version.txt"
    log "FerretDB $FERRETDB_VERSION: building (about a minute the first time)"
    (cd "$FERRETDB_SRC" && go build -o "$FERRETDB_BIN.tmp.$$" ./cmd/ferretdb) >>"$go_log" 2>&1 \
        || { tail -n 40 "$go_log" >&2; die "building FerretDB failed (log: $go_log)"; }
    mv "$FERRETDB_BIN.tmp.$$" "$FERRETDB_BIN"
    ferretdb_installed || die "the FerretDB binary at $FERRETDB_BIN does not report $FERRETDB_BUILD"
    log "FerretDB $FERRETDB_BUILD: built $FERRETDB_BIN"
}

cmd_install() {
    lock "$INSTALL_DIR/.install.flock" 900
    install_kafka
    install_ferretdb
}

# ------------------------------------------------------------------------------ start

write_kafka_config() {
    mkdir -p "$KAFKA_DATA"
    cat >"$KAFKA_CONFIG" <<EOF
# Generated by deploy/local/servers.sh on every start; edits are overwritten.
# Single-node KRaft broker+controller on loopback, for development and tests.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$KAFKA_DATA
num.partitions=1
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
EOF
}

# The controller's endpoint is recorded in the storage at format time (--standalone),
# so a storage formatted for other ports must be reset rather than reused.
format_kafka_storage() {
    local ports_file="$KAFKA_DIR/formatted-for-ports"
    if [[ -f $KAFKA_DATA/meta.properties ]]; then
        if [[ -f $ports_file && $(<"$ports_file") != "$KAFKA_PORT $KAFKA_CONTROLLER_PORT" ]]; then
            die "the Kafka storage in $KAFKA_DATA was formatted for ports $(<"$ports_file"); run 'servers.sh reset' to use $KAFKA_PORT $KAFKA_CONTROLLER_PORT"
        fi
        return
    fi
    log "Kafka: formatting the storage in $KAFKA_DATA"
    local cluster_id
    cluster_id=$(java -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool random-uuid 2>>"$KAFKA_LOG")
    java -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool format --standalone \
        -t "$cluster_id" -c "$KAFKA_CONFIG" >>"$KAFKA_LOG" 2>&1 \
        || { tail -n 20 "$KAFKA_LOG" >&2; die "formatting the Kafka storage failed (log: $KAFKA_LOG)"; }
    echo "$KAFKA_PORT $KAFKA_CONTROLLER_PORT" >"$ports_file"
}

# Refuse before starting anything if a port we are about to listen on is taken by a
# process that is not this state dir's server.
check_ports_free() {
    local bad=()
    if ! pid_of kafka >/dev/null; then
        port_open "$KAFKA_PORT" && bad+=("$KAFKA_PORT (TISSFLOW_KAFKA_PORT)")
        port_open "$KAFKA_CONTROLLER_PORT" && bad+=("$KAFKA_CONTROLLER_PORT (TISSFLOW_KAFKA_CONTROLLER_PORT)")
    fi
    if ! pid_of ferretdb >/dev/null; then
        port_open "$MONGO_PORT" && bad+=("$MONGO_PORT (TISSFLOW_MONGO_PORT)")
    fi
    ((${#bad[@]} == 0)) || die "port(s) in use by another process: ${bad[*]}; choose other ports"
}

start_kafka() {
    if pid_of kafka >/dev/null; then
        log "Kafka: already running (pid $(pid_of kafka), port $KAFKA_PORT)"
        return
    fi
    write_kafka_config
    format_kafka_storage
    log "Kafka: starting on 127.0.0.1:$KAFKA_PORT (log: $KAFKA_LOG)"
    touch "$KAFKA_LOG"
    stat -c %s "$KAFKA_LOG" >"$KAFKA_LOG_OFFSET"
    # Not a process-group leader here, so setsid execs in place and $! is the JVM's pid.
    nohup setsid java -Xms256m -Xmx512m -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError \
        -Djava.awt.headless=true \
        -Dlog4j2.configurationFile="$SCRIPT_DIR/kafka-log4j2.properties" \
        -Dkafka.logs.dir="$LOG_DIR" \
        -cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_CONFIG" \
        </dev/null >>"$KAFKA_LOG" 2>&1 {LOCK_FD}>&- &
    echo $! >"$KAFKA_PID"
}

start_ferretdb() {
    if pid_of ferretdb >/dev/null; then
        log "FerretDB: already running (pid $(pid_of ferretdb), port $MONGO_PORT)"
        return
    fi
    mkdir -p "$FERRETDB_DIR/data" "$FERRETDB_DIR/state"
    log "FerretDB: starting on 127.0.0.1:$MONGO_PORT (log: $FERRETDB_LOG)"
    # SQLite in WAL mode (FerretDB's default) with synchronous=NORMAL instead of SQLite's
    # FULL: a commit is written to the WAL before it is acknowledged, but fsynced only at
    # checkpoints. A FerretDB crash or kill -9 loses nothing acknowledged (the WAL is in
    # the kernel's page cache and is replayed on open); a power loss or kernel crash may
    # roll back the last commits since the last checkpoint, much as MongoDB's own default
    # (w:1, journal committed every 100 ms) can. Measured (ADR 0022): FerretDB's CPU per
    # write 1.0-1.3 ms -> 0.5-0.7 ms (the fsync of every commit).
    nohup setsid "$FERRETDB_BIN" --handler=sqlite \
        --sqlite-url="file:$FERRETDB_DIR/data/?_pragma=synchronous(normal)" \
        --listen-addr="127.0.0.1:$MONGO_PORT" --state-dir="$FERRETDB_DIR/state" \
        --telemetry=disable --debug-addr=- \
        </dev/null >>"$FERRETDB_LOG" 2>&1 {LOCK_FD}>&- &
    echo $! >"$FERRETDB_PID"
}

kafka_ready() {
    pid_of kafka >/dev/null && port_open "$KAFKA_PORT" || return 1
    # The port is bound before the broker serves requests; KafkaRaftServer logs this
    # line once the broker has caught up with the metadata log and been unfenced.
    local offset=0
    [[ -s $KAFKA_LOG_OFFSET ]] && offset=$(<"$KAFKA_LOG_OFFSET")
    # (Process substitution, not a pipe: with pipefail, `tail | grep -q` fails when grep
    # stops reading early and tail dies of SIGPIPE.)
    grep -q 'Kafka Server started' < <(tail -c "+$((offset + 1))" "$KAFKA_LOG")
}

ferretdb_ready() {
    pid_of ferretdb >/dev/null && port_open "$MONGO_PORT"
}

not_ready() { # not_ready <name> <log> <why>
    printf 'servers.sh: %s did not come up (%s; state dir %s). Log: %s\n' \
        "$1" "$3" "$STATE" "$2" >&2
    printf -- '--- last 20 lines of %s ---\n' "$2" >&2
    tail -n 20 "$2" >&2 2>/dev/null || true
    printf -- '---\nA server that is still starting keeps running; stop it with: %s stop\n' "$0" >&2
    exit 1
}

cmd_start() {
    [[ -f $KAFKA_MARKER ]] || die "Kafka is not installed; run 'servers.sh install' first"
    ferretdb_installed || die "FerretDB is not built; run 'servers.sh install' first"
    mkdir -p "$LOG_DIR" "$RUN_DIR"
    lock "$RUN_DIR/servers.flock" $((START_TIMEOUT + 60))
    check_ports_free
    start_kafka
    start_ferretdb
    local deadline=$((SECONDS + START_TIMEOUT)) k=0 f=0
    while ((SECONDS < deadline)); do
        ((k)) || { kafka_ready && k=1; } || true
        ((f)) || { ferretdb_ready && f=1; } || true
        ((k && f)) && break
        # Stop waiting early if a server died.
        ((k)) || pid_of kafka >/dev/null || not_ready Kafka "$KAFKA_LOG" "the process exited"
        ((f)) || pid_of ferretdb >/dev/null || not_ready FerretDB "$FERRETDB_LOG" "the process exited"
        sleep 0.2
    done
    ((k)) || not_ready Kafka "$KAFKA_LOG" "not ready within $START_TIMEOUT s"
    ((f)) || not_ready FerretDB "$FERRETDB_LOG" "not ready within $START_TIMEOUT s"
    log "ready: Kafka 127.0.0.1:$KAFKA_PORT, FerretDB 127.0.0.1:$MONGO_PORT"
}

# ------------------------------------------------------------------------ stop/status

stop_one() { # stop_one <name> <label> <pidfile>
    local pid waited=0
    if pid=$(pid_of "$1"); then
        log "$2: stopping (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
        while alive "$pid" && ((waited < 150)); do
            sleep 0.1
            waited=$((waited + 1))
        done
        if alive "$pid"; then
            log "$2: still running after 15 s, sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$3"
}

cmd_stop() { # cmd_stop [kafka|ferretdb]
    mkdir -p "$RUN_DIR"
    lock "$RUN_DIR/servers.flock" 120
    case "${1:-both}" in
        kafka|both) stop_one kafka Kafka "$KAFKA_PID"; rm -f "$KAFKA_LOG_OFFSET" ;;&
        ferretdb|both) stop_one ferretdb FerretDB "$FERRETDB_PID" ;;
        kafka) ;;
        *) die "stop: unknown server '$1' (kafka or ferretdb)" ;;
    esac
}

cmd_status() {
    local pid
    if pid=$(pid_of kafka); then
        echo "kafka     running  port $KAFKA_PORT  pid $pid"
    else
        echo "kafka     stopped  port $KAFKA_PORT"
    fi
    if pid=$(pid_of ferretdb); then
        echo "ferretdb  running  port $MONGO_PORT  pid $pid"
    else
        echo "ferretdb  stopped  port $MONGO_PORT"
    fi
}

cmd_reset() {
    cmd_stop
    log "deleting data, logs and generated config under $STATE"
    # Named paths only: with the default state dir, the shared installation
    # (kafka/libs, bin, build) lives in the same folder and must survive.
    rm -rf "$KAFKA_DATA" "$KAFKA_CONFIG" "$KAFKA_DIR/formatted-for-ports" \
        "$FERRETDB_DIR" "$LOG_DIR" "$RUN_DIR"
}

main() {
    case "${1:-}" in
        install) cmd_install ;;
        start) cmd_start ;;
        stop) cmd_stop "${2:-both}" ;;
        status) cmd_status ;;
        reset) cmd_reset ;;
        *)
            sed -n '2,26s/^# \{0,1\}//p' "$0" >&2
            exit 2
            ;;
    esac
}

# One line, so that bash has read all of it before running: editing this file while
# a `start` waits cannot make the running script read a half-written file.
main "$@"; exit
