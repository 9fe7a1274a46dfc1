"""confluent-kafka (librdkafka) admin and offsets against a broker: prints one JSON report.

Usage: confluent_admin.py BOOTSTRAP
"""
import json
import sys
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions, NewTopic

bootstrap = sys.argv[1]
admin = AdminClient({"bootstrap.servers": bootstrap})
report = {}


def outcome(future):
    try:
        future.result(timeout=15)
        return "ok"
    except KafkaException as e:
        return e.args[0].name()


def describe(topic, keys):
    res = admin.describe_configs([ConfigResource("topic", topic)])
    configs = list(res.values())[0].result(timeout=15)
    return {k: {"value": configs[k].value, "source": configs[k].source} for k in keys}


fs = admin.create_topics(
    [
        NewTopic("admin-a", 3, 1, config={"retention.ms": "3600000", "cleanup.policy": "delete"}),
        NewTopic("admin-b", 1, 1),
    ]
)
report["create"] = {t: outcome(f) for t, f in fs.items()}
report["create_again"] = {t: outcome(f) for t, f in admin.create_topics([NewTopic("admin-a", 3, 1)]).items()}
report["create_bad_config"] = {
    t: outcome(f) for t, f in admin.create_topics([NewTopic("admin-c", 1, 1, config={"retention.ms": "soon"})]).items()
}
report["validate_only"] = {
    t: outcome(f) for t, f in admin.create_topics([NewTopic("admin-v", 2, 1)], validate_only=True).items()
}
# Like Kafka, the broker lists internal topics (__consumer_offsets, made when a consumer finds its coordinator); the report leaves them out.
report["topics"] = sorted(t for t in admin.list_topics(timeout=15).topics if not t.startswith("__"))
report["partitions_a"] = len(admin.list_topics(timeout=15).topics["admin-a"].partitions)

report["configs_before"] = describe("admin-a", ["retention.ms", "segment.bytes", "cleanup.policy"])
alter = ConfigResource("topic", "admin-a", set_config={"retention.ms": "7200000", "max.message.bytes": "500000"})
report["alter"] = [outcome(f) for f in admin.alter_configs([alter]).values()]
report["configs_after"] = describe("admin-a", ["retention.ms", "max.message.bytes"])
bad = ConfigResource("topic", "admin-a", set_config={"no.such.config": "1"})
report["alter_unknown_key"] = [outcome(f) for f in admin.alter_configs([bad]).values()]

report["add_partitions"] = [outcome(f) for f in admin.create_partitions([NewPartitions("admin-b", 4)]).values()]
report["shrink_partitions"] = [outcome(f) for f in admin.create_partitions([NewPartitions("admin-b", 2)]).values()]
report["partitions_b"] = len(admin.list_topics(timeout=15).topics["admin-b"].partitions)

# Offsets by timestamp: 10 records one second apart in partition 0.
producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0})
t0 = int(time.time() * 1000) - 60_000
for i in range(10):
    producer.produce("admin-a", key=b"k%d" % i, value=b"v%d" % i, partition=0, timestamp=t0 + i * 1000)
producer.flush(15)
consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "offsets-probe", "enable.auto.commit": False})
times = [t0 - 1, t0, t0 + 3500, t0 + 9000, t0 + 60_000]
report["offsets_for_times"] = [
    consumer.offsets_for_times([TopicPartition("admin-a", 0, t)], timeout=15)[0].offset for t in times
]
low, high = consumer.get_watermark_offsets(TopicPartition("admin-a", 0), timeout=15)
report["watermarks"] = [low, high]
consumer.close()

report["delete"] = {t: outcome(f) for t, f in admin.delete_topics(["admin-b"]).items()}
report["delete_unknown"] = {t: outcome(f) for t, f in admin.delete_topics(["no-such-topic"]).items()}
report["topics_after_delete"] = sorted(t for t in admin.list_topics(timeout=15).topics if not t.startswith("__"))
print(json.dumps(report))
