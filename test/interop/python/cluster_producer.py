"""Produces COUNT records with enable.idempotence (acks=all) at about RATE per second, printing
each acknowledged record as it is acknowledged: "A <epoch ms> <partition> <offset> <value>";
delivery errors as "E <error>", client errors as "C <error>", and "DONE <undelivered>" at the end.

Usage: cluster_producer.py BOOTSTRAP TOPIC COUNT RATE
"""
import sys
import time

from confluent_kafka import Producer

bootstrap, topic, count, rate = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])


def on_error(err):
    sys.stdout.write("C %s\n" % err)
    sys.stdout.flush()


producer = Producer(
    {
        "bootstrap.servers": bootstrap,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 5,
        "message.timeout.ms": 60000,
        "topic.metadata.refresh.interval.ms": 1000,
        "error_cb": on_error,
    }
)


def on_delivery(err, msg):
    if err is not None:
        sys.stdout.write("E %s\n" % err)
    else:
        sys.stdout.write("A %d %d %d %s\n" % (time.time() * 1000, msg.partition(), msg.offset(), msg.value().decode()))
    sys.stdout.flush()


start = time.time()
for i in range(count):
    while True:
        try:
            producer.produce(topic, key=b"k%d" % (i % 31), value=b"v%d" % i, on_delivery=on_delivery)
            break
        except BufferError:
            producer.poll(0.01)
    producer.poll(0)
    ahead = i / rate - (time.time() - start)
    if ahead > 0:
        time.sleep(ahead)
left = producer.flush(60)
sys.stdout.write("DONE %d\n" % left)
sys.stdout.flush()
