"""A confluent-kafka consumer with client.rack reading COUNT records of partition 0 of TOPIC
from the beginning (no group), then printing "READ <count>". librdkafka's fetch debug log
goes to stderr: it names the broker each fetch went to.

Usage: rack_consumer.py BOOTSTRAP TOPIC RACK COUNT
"""
import sys
import time

from confluent_kafka import Consumer, TopicPartition

bootstrap, topic, rack, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
consumer = Consumer(
    {
        "bootstrap.servers": bootstrap,
        "group.id": "rack-reader",
        "client.rack": rack,
        "enable.auto.commit": False,
        "debug": "fetch",
    }
)
consumer.assign([TopicPartition(topic, 0, 0)])
seen = 0
deadline = time.time() + 30
while seen < count and time.time() < deadline:
    msg = consumer.poll(0.5)
    if msg is not None and msg.error() is None:
        seen += 1
print("READ %d" % seen, flush=True)
consumer.close()
