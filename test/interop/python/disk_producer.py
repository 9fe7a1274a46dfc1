"""Produces records of VALUE_BYTES (key = sequence number) with acks=all at about RATE per
second for SECONDS, then waits for the last deliveries. Prints each acknowledged record as
"A <epoch ms> <partition> <offset> <seq>", each delivery error as "E <epoch ms> <code> <name>
<seq> <partition>" (the broker's error code, 56 for KAFKA_STORAGE_ERROR), and "DONE <undelivered>".

IDEMPOTENT=1 makes it an idempotent producer that retries until message.timeout.ms (the
cluster case: it must move to the new leader); else it does not retry, so each broker error
reaches the delivery report as it was answered.

Usage: disk_producer.py BOOTSTRAP TOPIC SECONDS RATE VALUE_BYTES IDEMPOTENT
"""
import sys
import time

from confluent_kafka import Producer

bootstrap, topic = sys.argv[1], sys.argv[2]
seconds, rate, value_bytes = float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
idempotent = sys.argv[6] == "1"

settings = {
    "bootstrap.servers": bootstrap,
    "acks": "all",
    "linger.ms": 5,
    "topic.metadata.refresh.interval.ms": 1000,
}
if idempotent:
    settings.update({"enable.idempotence": True, "message.timeout.ms": 30000})
else:
    settings.update({"enable.idempotence": False, "retries": 0, "message.timeout.ms": 5000})
producer = Producer(settings)


def on_delivery(err, msg):
    now = time.time() * 1000
    seq = msg.key().decode()
    if err is not None:
        partition = msg.partition() if msg.partition() is not None else -1
        sys.stdout.write("E %d %d %s %s %d\n" % (now, err.code(), err.name(), seq, partition))
    else:
        sys.stdout.write("A %d %d %d %s\n" % (now, msg.partition(), msg.offset(), seq))
    sys.stdout.flush()


start = time.time()
i = 0
while time.time() - start < seconds:
    key = b"%d" % i
    try:
        producer.produce(topic, key=key, value=key.ljust(value_bytes, b"."), on_delivery=on_delivery)
        i += 1
    except BufferError:
        pass
    producer.poll(0)
    ahead = i / rate - (time.time() - start)
    if ahead > 0:
        time.sleep(ahead)
left = producer.flush(40)
sys.stdout.write("DONE %d\n" % left)
sys.stdout.flush()
