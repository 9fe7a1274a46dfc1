"""kafka-python reads one topic from the beginning (no group) and prints "offset key value" lines.

Usage: read_topic.py BOOTSTRAP TOPIC
"""
import sys

from kafka import KafkaConsumer, TopicPartition

bootstrap, topic = sys.argv[1], sys.argv[2]
consumer = KafkaConsumer(
    bootstrap_servers=bootstrap, auto_offset_reset="earliest", consumer_timeout_ms=3000, enable_auto_commit=False
)
consumer.assign([TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic))])
for m in consumer:
    print(m.offset, m.key.decode(), m.value.decode() if m.value is not None else None)
consumer.close()
