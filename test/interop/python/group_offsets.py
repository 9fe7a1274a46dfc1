"""What confluent-kafka (librdkafka) reports for a topic and a group: partitions with leader,
replicas and ISR, low and high watermarks, the group's committed offsets. Prints one JSON object.

Usage: group_offsets.py BOOTSTRAP TOPIC GROUP
"""
import json
import sys

from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient

bootstrap, topic, group = sys.argv[1:4]
meta = AdminClient({"bootstrap.servers": bootstrap}).list_topics(topic, timeout=15)
consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
partitions = sorted(meta.topics[topic].partitions.values(), key=lambda p: p.id)
committed = consumer.committed([TopicPartition(topic, p.id) for p in partitions], timeout=15)
out = []
for p, c in zip(partitions, committed):
    low, high = consumer.get_watermark_offsets(TopicPartition(topic, p.id), timeout=15)
    out.append(
        {
            "partition": p.id,
            "leader": p.leader,
            "replicas": list(p.replicas),
            "isr": list(p.isrs),
            "low": low,
            "high": high,
            "committed": c.offset if c.offset >= 0 else None,
        }
    )
consumer.close()
print(json.dumps({"topic": topic, "group": group, "partitions": out}))
