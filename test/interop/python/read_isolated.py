"""Reads every partition of TOPIC from the beginning to its end with isolation.level ISOLATION
(confluent-kafka, no group) and prints the values as a JSON list, in partition order.

Usage: read_isolated.py BOOTSTRAP TOPIC read_committed|read_uncommitted
"""
import json
import sys

from confluent_kafka import Consumer, TopicPartition

bootstrap, topic, isolation = sys.argv[1], sys.argv[2], sys.argv[3]
consumer = Consumer(
    {
        "bootstrap.servers": bootstrap,
        "group.id": "txn-read-unused",
        "isolation.level": isolation,
        "enable.partition.eof": True,
        "enable.auto.commit": False,
    }
)
partitions = sorted(consumer.list_topics(topic, timeout=10).topics[topic].partitions)
consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
values = {p: [] for p in partitions}
at_end = set()
errors = []
while len(at_end) < len(partitions):
    msg = consumer.poll(10)
    if msg is None:
        errors.append("no end of partition within 10 s: %s" % sorted(set(partitions) - at_end))
        break
    if msg.error():
        if msg.error().code() == -191:  # _PARTITION_EOF
            at_end.add(msg.partition())
        else:
            errors.append(str(msg.error()))
        continue
    values[msg.partition()].append(msg.value().decode())
consumer.close()
print(json.dumps({"values": [v for p in partitions for v in values[p]], "errors": errors}))
