#!/usr/bin/env bash
# Apache Kafka, single node in KRaft mode (broker + controller in one JVM) on 127.0.0.1:$KAFKA_PORT.
# The broker jars come from Maven Central through `mvn` (cached in .servers/cache); runs on JDK 17+.
#   services/kafka.sh deps|install|start|up|stop|status|reset
set -euo pipefail
SERVICE=kafka
. "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

LIBS=$CACHE_DIR/kafka-$KAFKA_VERSION/libs
HOME_DIR=$STATE_DIR/kafka
PIDF=$HOME_DIR/kafka.pid
LOG=$HOME_DIR/kafka.log

deps() { command -v mvn >/dev/null || echo maven; java_home 17 >/dev/null || echo openjdk-17-jdk-headless; }

install() {
  [ -f "$LIBS/.complete" ] && return 0
  local work=$CACHE_DIR/kafka-$KAFKA_VERSION logdeps
  mkdir -p "$work"
  if [[ $KAFKA_VERSION == 3.* ]]; then
    # 3.x: the POM has slf4j-api but no binding
    logdeps='<dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>1.7.36</version></dependency>
    <dependency><groupId>ch.qos.reload4j</groupId><artifactId>reload4j</artifactId><version>1.2.25</version></dependency>'
  else
    # 4.x: log4j-core is there but no slf4j binding: without it the broker logs nothing at all
    logdeps='<dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>2.24.3</version></dependency>'
  fi
  cat > "$work/pom.xml" <<POM
<project>
  <modelVersion>4.0.0</modelVersion>
  <groupId>pump.servers</groupId><artifactId>kafka-broker</artifactId><version>1</version><packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    $logdeps
  </dependencies>
</project>
POM
  rm -rf "$LIBS"
  mvn_run -f "$work/pom.xml" "$MVN_DEP_PLUGIN:copy-dependencies" -DoutputDirectory="$LIBS" -DincludeScope=runtime
  touch "$LIBS/.complete"
}

write_config() {
  mkdir -p "$HOME_DIR/data"
  cat > "$HOME_DIR/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$HOME_DIR/data
num.partitions=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# after a kill -9 the restarted broker waits for the old registration to expire: keep that short
broker.heartbeat.interval.ms=1000
broker.session.timeout.ms=4000
PROPS
  if [[ $KAFKA_VERSION == 3.* ]]; then
    cat > "$HOME_DIR/log4j.properties" <<'L4J'
log4j.rootLogger=WARN, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.KafkaRaftServer=INFO
L4J
  else
    cat > "$HOME_DIR/log4j2.properties" <<'L4J'
rootLogger.level = WARN
rootLogger.appenderRef.out.ref = OUT
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
logger.ready.name = kafka.server.KafkaRaftServer
logger.ready.level = INFO
L4J
  fi
}
logopt() {
  if [[ $KAFKA_VERSION == 3.* ]]; then echo "-Dlog4j.configuration=file:$HOME_DIR/log4j.properties"
  else echo "-Dlog4j2.configurationFile=file:$HOME_DIR/log4j2.properties"; fi
}

# Readiness: a Kafka ApiVersions request (v0) over TCP answered with our correlation id and error 0.
ready() {
  tcp_open "$KAFKA_PORT" || return 1
  printf '\x00\x00\x00\x0f\x00\x12\x00\x00\x00\x00\x00\x2a\x00\x05probe' >&3
  local head; head=$(timeout 3 head -c 10 <&3 | od -An -v -tx1 | tr -d ' \n') || true
  tcp_close
  [[ $head == ????????0000002a0000 ]]
}
running() { pid_from "$PIDF" >/dev/null; }

start() {
  install
  local java; java=$(ensure_jdk)/bin/java
  if ! running; then
    write_config
    if [ ! -f "$HOME_DIR/data/meta.properties" ]; then
      local cid; cid=$("$java" "$(logopt)" -cp "$LIBS/*" kafka.tools.StorageTool random-uuid)
      "$java" "$(logopt)" -cp "$LIBS/*" kafka.tools.StorageTool format --ignore-formatted \
        -t "$cid" -c "$HOME_DIR/server.properties" >/dev/null
    fi
    : > "$LOG"
    setsid nohup "$java" -Xms"$KAFKA_HEAP" -Xmx"$KAFKA_HEAP" -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
      -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
      "$(logopt)" -cp "$LIBS/*" kafka.Kafka "$HOME_DIR/server.properties" >>"$LOG" 2>&1 </dev/null &
    echo $! > "$PIDF"
    say "kafka $KAFKA_VERSION starting, pid $!, log $LOG"
  fi
  retry_until 120 kafka ready running || { tail -40 "$LOG" >&2; return 1; }
  say "kafka ready: $KAFKA_BROKERS (pid $(cat "$PIDF"))"
}

stop() {
  local pid; pid=$(pid_from "$PIDF") || { rm -f "$PIDF"; say "kafka stopped"; return 0; }
  stop_pid "$pid" kafka 30   # controlled shutdown
  rm -f "$PIDF"; say "kafka stopped"
}

reset() { rm -rf "$HOME_DIR"; say "kafka data wiped"; }

service_main "$@"
