# shellcheck shell=bash
# The ONE place for the test servers' versions, ports and credentials.
# Sourced by servers.sh and every services/*.sh; `servers.sh env` prints the URLs below as exports, and
# docker-compose.yml at the repository root uses the same ports and credentials (keep them in step).
# Any value may be overridden from the environment before calling servers.sh.

# --- versions -----------------------------------------------------------------------------------
: "${KAFKA_VERSION:=4.1.1}"          # org.apache.kafka:kafka_2.13 from Maven Central, KRaft, JDK 17+
: "${ES_VERSION:=8.19.21}"           # integ-test-zip from Maven Central; 8.x runs on JDK 17
: "${INFLUXDB_VERSION:=1.8.10}"      # go install github.com/influxdata/influxdb/cmd/influxd@v1.8.10
# RabbitMQ, MariaDB, vsftpd and Redis are Debian 12's packages (3.10.8, 10.11, 3.0.3, 7.0).

# --- ports (all on 127.0.0.1) ---------------------------------------------------------------------
: "${KAFKA_PORT:=9092}"
: "${KAFKA_CONTROLLER_PORT:=9093}"
: "${ES_PORT:=9200}"
: "${ES_TRANSPORT_PORT:=9300}"
: "${AMQP_PORT:=5672}"
: "${RABBITMQ_DIST_PORT:=25672}"     # Erlang distribution (rabbitmqctl); epmd keeps 4369
: "${MYSQL_PORT:=3306}"
: "${FTP_PORT:=2121}"
: "${FTP_PASV_MIN:=30000}"           # passive data ports
: "${FTP_PASV_MAX:=30019}"
: "${INFLUX_PORT:=8086}"
: "${INFLUX_RPC_PORT:=8088}"         # influxd's backup/restore RPC port
: "${REDIS_PORT:=6379}"

# --- credentials and names --------------------------------------------------------------------------
: "${AMQP_USER:=guest}"
: "${AMQP_PASS:=guest}"
: "${MYSQL_USER:=pump}"              # password user: mysql2 cannot use root's unix-socket auth over TCP
: "${MYSQL_PASS:=pump}"
: "${MYSQL_DB:=test}"
: "${FTP_USER:=pump}"
: "${FTP_PASS:=pump}"
: "${INFLUX_DB:=pump}"               # database; the v2 API sees it as bucket "pump/autogen"
: "${INFLUX_TOKEN:=}"                # auth is off: any token (also empty) is accepted
: "${INFLUX_ORG:=}"                  # ignored by InfluxDB 1.8
: "${INFLUX_BUCKET:=$INFLUX_DB/autogen}"

# --- memory ---------------------------------------------------------------------------------------
: "${KAFKA_HEAP:=512m}"
: "${ES_HEAP:=512m}"

# --- what tests read (printed by `servers.sh env`) ------------------------------------------------
KAFKA_BROKERS="127.0.0.1:$KAFKA_PORT"
ES_URL="http://127.0.0.1:$ES_PORT"
AMQP_URL="amqp://$AMQP_USER:$AMQP_PASS@127.0.0.1:$AMQP_PORT"
MYSQL_URL="mysql://$MYSQL_USER:$MYSQL_PASS@127.0.0.1:$MYSQL_PORT/$MYSQL_DB"
FTP_URL="ftp://$FTP_USER:$FTP_PASS@127.0.0.1:$FTP_PORT"
INFLUX_URL="http://127.0.0.1:$INFLUX_PORT"
REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
PUMP_SERVER_VARS="KAFKA_BROKERS ES_URL AMQP_URL MYSQL_URL FTP_URL INFLUX_URL INFLUX_TOKEN INFLUX_ORG INFLUX_BUCKET REDIS_URL"
