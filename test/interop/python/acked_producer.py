"""Produces with acks=all until killed, printing each acknowledged record as "partition offset value".

Usage: acked_producer.py BOOTSTRAP TOPIC
"""
import sys

from confluent_kafka import Producer

bootstrap, topic = sys.argv[1], sys.argv[2]
producer = Producer(
    {"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 2, "message.timeout.ms": 60000, "retries": 0}
)


def delivered(err, msg):
    if err is None:
        sys.stdout.write("%d %d %s\n" % (msg.partition(), msg.offset(), msg.value().decode()))
        sys.stdout.flush()


i = 0
while True:
    try:
        producer.produce(topic, key=b"k%d" % (i % 13), value=b"v%d" % i, on_delivery=delivered)
        i += 1
    except BufferError:
        pass
    producer.poll(0.001 if i % 50 == 0 else 0)
