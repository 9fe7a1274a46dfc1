"""confluent-kafka (librdkafka) producing as a client of an old broker, then reading back.

With api.version.request=false and broker.version.fallback=0.9.0.0 librdkafka sends Produce v1
with magic 0 messages (no timestamps); with 0.10.0.0, Produce v2 with magic 1 messages. A
current consumer then reads the topic; prints one JSON report:
{"delivered": N, "errors": [...], "records": [[key, value, timestamp_type, timestamp], ...]}

Usage: legacy_producer.py BOOTSTRAP TOPIC FALLBACK_VERSION CODEC TIMESTAMP_TYPE COUNT TIMESTAMP_MS
"""
import json
import sys

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

bootstrap, topic, fallback, codec, ts_type, count, timestamp = sys.argv[1:8]
count, timestamp = int(count), int(timestamp)

admin = AdminClient({"bootstrap.servers": bootstrap})
new = NewTopic(topic, num_partitions=1, replication_factor=1, config={"message.timestamp.type": ts_type})
admin.create_topics([new])[topic].result(30)

errors = []
delivered = 0


def on_delivery(err, _msg):
    global delivered
    if err is not None:
        errors.append(err.name())
    else:
        delivered += 1


producer = Producer(
    {
        "bootstrap.servers": bootstrap,
        "api.version.request": False,
        "broker.version.fallback": fallback,
        "enable.idempotence": False,
        "compression.codec": codec,
        # Several message sets per run, as librdkafka's 0052 does.
        "batch.num.messages": max(1, count // 4),
        "message.timeout.ms": 20000,
        "error_cb": lambda e: errors.append(e.name()),
    }
)
for i in range(count):
    key = None if i % 5 == 4 else f"k{i}"
    producer.produce(topic, key=key, value=f"value-{i}", timestamp=timestamp, on_delivery=on_delivery)
producer.flush(30)

consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"{topic}-reader", "enable.auto.commit": False})
consumer.assign([TopicPartition(topic, 0, 0)])
records = []
while len(records) < delivered:
    m = consumer.poll(10)
    if m is None:
        break
    if m.error():
        errors.append(m.error().name())
        continue
    ts_kind, ts = m.timestamp()
    key = None if m.key() is None else m.key().decode()
    records.append([key, m.value().decode(), ts_kind, ts])
consumer.close()
print(json.dumps({"delivered": delivered, "errors": errors, "records": records}))
