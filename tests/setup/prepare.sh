#!/usr/bin/env bash
# Makes this machine ready for the whole test suite, then runs the command given (if any) with the
# servers' addresses in its environment:
#   tests/setup/prepare.sh [COMMAND ...]
# - installs what is missing from Debian's packages (RabbitMQ, PostgreSQL, Dovecot, promtool for the
#   alert rules, Chromium for the browser tests, and what `make install` needs), when run as root
#   with apt; otherwise stops at once and prints the one command that does it;
# - starts the local RabbitMQ and PostgreSQL when they do not answer;
# - exports AMQP_URL and DATABASE_URL (defaults: the local servers) and POSTROOM_REQUIRE_SERVERS=1,
#   so a server that cannot be reached fails the tests instead of skipping them.
# Nothing is stopped that this script did not install: the tests run their own Dovecot instances on
# free ports with private configs (tests/support/dovecot.py), so a system Dovecot does not disturb them.
set -euo pipefail

say() { echo "prepare: $*" >&2; }

fail() { say "$1"; exit 1; }

# Stop here, telling the one command that finishes the job: this script as root.
give_up() {
  say "$1"
  if command -v apt-get >/dev/null; then
    say "run this once, then the same command again:"
    echo "    sudo $0" >&2
  else
    say "this machine has no apt: install the Debian packages' equivalents (${missing[*]:-none missing}),"
    say "or point AMQP_URL and DATABASE_URL at running servers"
  fi
  exit 1
}

have() {  # a command, also where Debian puts daemons (/usr/sbin is not on every user's PATH)
  command -v "$1" >/dev/null || [ -x "/usr/sbin/$1" ]
}

missing=()
have rabbitmq-server || missing+=(rabbitmq-server)
have pg_ctlcluster || missing+=(postgresql)
{ have dovecot && [ -x /usr/lib/dovecot/imap ] && [ -x /usr/lib/dovecot/pop3 ]; } ||
  missing+=(dovecot-imapd dovecot-pop3d)
have promtool || missing+=(prometheus)  # promtool checks the alert rules
have chromium || missing+=(chromium)    # the browser tests drive Debian's Chromium
have make || missing+=(make)
have python3 || missing+=(python3)
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    give_up "missing: ${missing[*]}"
  fi
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts the daemons of what it installs; the tests need neither the system Dovecot nor a
  # Prometheus server. Stopped only through systemd, and only when this script installed them.
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
    for installed in "${missing[@]}"; do
      case $installed in
        dovecot-imapd) systemctl stop dovecot || true ;;
        prometheus) systemctl stop prometheus || true ;;
      esac
    done
  fi
fi

answers() {  # host port: does something accept a TCP connection there?
  timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
}

# host and port of a URL such as amqp://user:pass@host:port/vhost ($2: the default port)
host_port() {
  local rest=${1#*://}
  rest=${rest%%/*}
  rest=${rest##*@}
  local host=${rest%%:*} port=${rest##*:}
  [ "$port" = "$rest" ] && port=$2
  echo "${host:-127.0.0.1} $port"
}

is_local() { [ "$1" = 127.0.0.1 ] || [ "$1" = localhost ]; }

wait_until_answers() {  # host port seconds
  for _ in $(seq 1 "$3"); do answers "$1" "$2" && return 0; sleep 1; done
  return 1
}

database_default=0
[ -n "${DATABASE_URL:-}" ] || database_default=1
export AMQP_URL="${AMQP_URL:-amqp://guest:guest@127.0.0.1:5672//}"
export DATABASE_URL="${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"
export POSTROOM_REQUIRE_SERVERS=1

read -r amqp_host amqp_port < <(host_port "$AMQP_URL" 5672)
if ! answers "$amqp_host" "$amqp_port"; then
  is_local "$amqp_host" || fail "RabbitMQ at $amqp_host:$amqp_port (AMQP_URL) does not answer"
  [ "$(id -u)" = 0 ] || give_up "RabbitMQ does not answer on $amqp_host:$amqp_port"
  say "starting RabbitMQ"
  rabbitmq-server -detached
  wait_until_answers "$amqp_host" "$amqp_port" 60 || fail "RabbitMQ did not start"
  rabbitmqctl await_startup >/dev/null
fi

read -r db_host db_port < <(host_port "$DATABASE_URL" 5432)
if ! answers "$db_host" "$db_port"; then
  is_local "$db_host" || fail "PostgreSQL at $db_host:$db_port (DATABASE_URL) does not answer"
  [ "$(id -u)" = 0 ] || give_up "PostgreSQL does not answer on $db_host:$db_port"
  cluster=$(pg_lsclusters -h | awk -v port="$db_port" '$3 == port {print $1, $2; exit}')
  [ -n "$cluster" ] || fail "no PostgreSQL cluster on port $db_port (pg_lsclusters)"
  say "starting PostgreSQL $cluster"
  # shellcheck disable=SC2086  # "version name", two words
  pg_ctlcluster --skip-systemctl-redirect $cluster start
  wait_until_answers "$db_host" "$db_port" 30 || fail "PostgreSQL did not start"
fi

# Debian's PostgreSQL asks for a password over TCP; the default URL has none. On a machine whose
# superuser has none either, let `postgres` in from loopback only, as a test machine does.
if command -v psql >/dev/null && ! PGCONNECT_TIMEOUT=5 psql "$DATABASE_URL" -Atqc 'select 1' >/dev/null 2>&1; then
  [ "$database_default" = 1 ] || fail "cannot log in to PostgreSQL with DATABASE_URL"
  [ "$(id -u)" = 0 ] || give_up "cannot log in to PostgreSQL as postgres without a password"
  hba=$(runuser -u postgres -- psql -p "$db_port" -Atqc 'show hba_file')
  say "letting postgres in from 127.0.0.1 without a password ($hba)"
  sed -i '1i host all postgres 127.0.0.1/32 trust  # tests/setup/prepare.sh' "$hba"
  runuser -u postgres -- psql -p "$db_port" -Atqc 'select pg_reload_conf()' >/dev/null
  PGCONNECT_TIMEOUT=5 psql "$DATABASE_URL" -Atqc 'select 1' >/dev/null || fail "still cannot log in to PostgreSQL"
fi

if [ $# -gt 0 ]; then
  exec "$@"
fi
