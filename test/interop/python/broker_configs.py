"""Dynamic broker configs through confluent-kafka's and kafka-python's admin clients: prints one JSON report.

Usage: broker_configs.py BOOTSTRAP PHASE
  PHASE "alter": per-broker and cluster-default changes, their effect on retention and
    record size, and the errors Kafka answers for changes it refuses.
  PHASE "restarted": what a restarted broker still has (describe, and the size limit).
  PHASE "cluster": a per-broker change on broker 3 (librdkafka sends it there) and a
    cluster-default change (kafka-python sends it to any broker).
"""
import json
import sys
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource as CResource, NewTopic
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

bootstrap, phase = sys.argv[1], sys.argv[2]
confluent = AdminClient({"bootstrap.servers": bootstrap})
kp = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="broker-configs")
report = {}

KEYS = ["log.retention.ms", "log.retention.hours", "log.segment.bytes", "message.max.bytes", "log.dirs"]


def outcome(future):
    try:
        future.result(timeout=15)
        return "ok"
    except KafkaException as e:
        return e.args[0].name()


def kp_alter(name, configs):
    """Legacy AlterConfigs through kafka-python: the resource's error code and message."""
    r = kp.alter_configs([ConfigResource(ConfigResourceType.BROKER, name, configs=configs)])
    res = r.resources[0]
    return [res[0], res[1]]


def kp_describe(keys):
    """kafka-python's DescribeConfigs v1+ with synonyms: value, source, read-only, synonyms."""
    r = kp.describe_configs(
        [ConfigResource(ConfigResourceType.BROKER, "1", configs={k: None for k in keys})], include_synonyms=True
    )
    out = {}
    for entry in r[0].resources[0][4]:
        name, value, read_only, source, sensitive, synonyms = entry
        out[name] = {"value": value, "source": source, "read_only": read_only, "synonyms": [list(s) for s in synonyms]}
    return out


def confluent_describe(keys):
    """librdkafka's DescribeConfigs of broker 1 (it asks for synonyms)."""
    configs = list(confluent.describe_configs([CResource("broker", "1")]).values())[0].result(timeout=15)
    return {
        k: {
            "value": configs[k].value,
            "source": configs[k].source,
            "read_only": configs[k].is_read_only,
            "synonyms": [[s.name, s.value, s.source] for s in configs[k].synonyms.values()],
        }
        for k in keys
        if k in configs
    }


def watermarks(topic):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "wm"})
    try:
        return list(c.get_watermark_offsets(TopicPartition(topic, 0), timeout=10))
    finally:
        c.close()


def produce(topic, value, flush_each=False, count=1):
    """Produces `count` records; returns the delivery errors' names (None for a success)."""
    errors = []
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0, "message.max.bytes": 1000000})

    def done(err, _msg):
        errors.append(None if err is None else err.name())

    for _ in range(count):
        p.produce(topic, value, on_delivery=done)
        if flush_each:
            p.flush(15)
    p.flush(15)
    return errors


if phase == "alter":
    report["before"] = confluent_describe(KEYS)
    report["create"] = [outcome(f) for f in confluent.create_topics([NewTopic("retained", 1, 1)]).values()]
    # librdkafka's test 0081 changes this (a Kerberos setting) on a broker.
    report["validate_only_0081"] = [
        outcome(f)
        for f in confluent.alter_configs(
            [CResource("broker", "1", set_config={"sasl.kerberos.min.time.before.relogin": "58000"})],
            validate_only=True,
        ).values()
    ]
    # Small segments from now on: one record per batch, one batch per segment.
    report["segment_bytes"] = [
        outcome(f)
        for f in confluent.alter_configs([CResource("broker", "1", set_config={"log.segment.bytes": "1024"})]).values()
    ]
    report["produced"] = produce("retained", b"x" * 700, flush_each=True, count=20)
    report["watermarks_before"] = watermarks("retained")
    report["retention"] = kp_alter("1", {"log.segment.bytes": "1024", "log.retention.ms": "1000"})
    deadline = time.time() + 30
    # Segments go as each passes the new retention after its newest record: all closed ones, in time.
    while time.time() < deadline and watermarks("retained")[0] < 19:
        time.sleep(0.2)
    report["watermarks_after"] = watermarks("retained")
    # Batches stay under log.segment.bytes (1024), or that refuses them first.
    report["default_size"] = kp_alter("", {"message.max.bytes": "800"})
    report["too_large"] = produce("sized", b"y" * 900)
    report["small_enough"] = produce("sized", b"y" * 300)
    report["refused"] = {
        "read_only": kp_alter("1", {"log.dirs": "/elsewhere"}),
        "per_broker_as_default": kp_alter("", {"listener.name.plaintext.ssl.client.auth": "required"}),
        "without_listener_prefix": kp_alter("1", {"ssl.keystore.location": "/k.pem"}),
        "other_broker": kp_alter("2", {"log.retention.ms": "1000"}),
        "unknown": kp_alter("1", {"no.such.config": "1"}),
        "bad_value": kp_alter("1", {"log.retention.ms": "soon"}),
    }
    report["described"] = kp_describe(KEYS)
elif phase == "restarted":
    report["described"] = confluent_describe(KEYS)
    report["too_large"] = produce("sized", b"y" * 900)
elif phase == "cluster":
    report["per_broker"] = [
        outcome(f)
        for f in confluent.alter_configs(
            [CResource("broker", "3", set_config={"log.cleaner.backoff.ms": "1234"})]
        ).values()
    ]
    report["default"] = kp_alter("", {"message.max.bytes": "800"})
else:
    raise SystemExit(f"unknown phase {phase}")

kp.close()
print(json.dumps(report))
