"""Raw Kafka produce rate and latency, measured with Kafka's ProducerPerformance tool.

ProducerPerformance is the class behind kafka-producer-perf-test.sh and ships in the kafka-tools jar
that deploy/local/kafka/fetch resolves. It runs with the gateway's producer settings (acks=all,
idempotence, linger.ms=0) and records of the job message size."""
import pathlib
import re
import subprocess

from ..results import Result

NAME = "kafka-producer"
ROOT = pathlib.Path(__file__).resolve().parents[4]
TOPIC = "jobgate.bench"
TOPIC_PARTITIONS = 6  # as jobgate.exports in deploy/local/services
SUMMARY = re.compile(r"(\d+) records sent, ([0-9.]+) records/sec .*?([0-9.]+) ms avg latency, "
                     r"([0-9.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th")


def kafka_version():
    """Return the Kafka version that deploy/local/kafka/pom.xml names."""
    pom = (ROOT / "deploy/local/kafka/pom.xml").read_text()
    match = re.search(r"<kafka.version>([^<]+)</kafka.version>", pom)
    return match.group(1) if match else None


def kafka_libs():
    done = subprocess.run([str(ROOT / "deploy/local/kafka/fetch")], capture_output=True,
                          text=True, timeout=900)
    if done.returncode != 0:
        raise RuntimeError(f"deploy/local/kafka/fetch failed: {done.stderr[-2000:]}")
    return pathlib.Path(done.stdout.strip()) / "libs"


def produce(context, libs, records, record_size, throughput):
    arguments = ["java", "-Xmx512m", "-XX:TieredStopAtLevel=1",
                 f"-Dlog4j2.configurationFile={ROOT / 'deploy/local/kafka/log4j2.properties'}",
                 "-cp", f"{libs}/*", "org.apache.kafka.tools.ProducerPerformance",
                 "--topic", TOPIC, "--num-records", str(records),
                 "--record-size", str(record_size), "--throughput", str(throughput),
                 "--producer-props", f"bootstrap.servers={context.brokers}", "acks=all",
                 "enable.idempotence=true", "linger.ms=0"]
    done = subprocess.run(arguments, capture_output=True, text=True, timeout=600)
    match = None
    for line in done.stdout.splitlines():
        match = SUMMARY.search(line) or match
    if done.returncode != 0 or match is None:
        raise RuntimeError(f"ProducerPerformance failed ({done.returncode}): "
                           f"{done.stdout[-1500:]}{done.stderr[-1500:]}")
    return {"records_per_s": float(match.group(2)), "mean_ms": float(match.group(3)),
            "p50_ms": float(match.group(5)), "p99_ms": float(match.group(7))}


def run(context):
    sizes = context.sizes
    record_size = context.submit_facts()["kafka_message_bytes"]
    ensure = subprocess.run([str(ROOT / "deploy/local/kafka/topics"), "ensure", "--brokers",
                             context.brokers, "--timeout", "60", f"{TOPIC}:{TOPIC_PARTITIONS}"],
                            capture_output=True, text=True, timeout=120)
    if ensure.returncode != 0:
        raise RuntimeError(f"creating topic {TOPIC} failed: {ensure.stderr[-2000:]}")
    libs = kafka_libs()
    result = Result(NAME, "reference",
                    "Kafka's ProducerPerformance (kafka-tools, the JVM client) producing records "
                    "of the job message size to a 6-partition topic with acks=all, idempotence "
                    "and linger.ms=0: unthrottled for the rate, and paced for the latency of "
                    "one acknowledged message.",
                    {"record_bytes": record_size, "topic_partitions": TOPIC_PARTITIONS})
    lines = [("unthrottled", sizes.kafka_records, -1),
             (f"paced {sizes.kafka_paced_rate}/s", sizes.kafka_paced_records,
              sizes.kafka_paced_rate)]
    for label, records, throughput in lines:
        entry = result.measurement("kafka", label, {"records": records,
                                                    "throughput_limit": throughput})
        produce(context, libs, max(100, records // 10), record_size, throughput)
        for repetition in range(sizes.repetitions):
            metrics = produce(context, libs, records, record_size, throughput)
            entry.add_run(metrics)
            context.log(f"{NAME} {label} #{repetition + 1}: {metrics['records_per_s']:.0f} "
                        f"records/s, p50 {metrics['p50_ms']} ms, p99 {metrics['p99_ms']} ms")
    return [result]
