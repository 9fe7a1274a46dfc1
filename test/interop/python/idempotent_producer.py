"""Produces COUNT records with enable.idempotence=true, then prints a JSON report.

Usage: idempotent_producer.py BOOTSTRAP TOPIC COUNT
"""
import json
import sys

from confluent_kafka import Producer

bootstrap, topic, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
errors = []
delivered = []


def on_error(err):
    errors.append(str(err))


producer = Producer(
    {
        "bootstrap.servers": bootstrap,
        "enable.idempotence": True,
        "linger.ms": 5,
        "batch.num.messages": 50,
        "message.timeout.ms": 30000,
        "error_cb": on_error,
    }
)


def on_delivery(err, msg):
    if err is not None:
        errors.append(str(err))
    else:
        delivered.append([msg.partition(), msg.offset(), msg.value().decode()])


for i in range(count):
    while True:
        try:
            producer.produce(topic, key=b"k%d" % (i % 17), value=b"v%d" % i, on_delivery=on_delivery)
            break
        except BufferError:
            producer.poll(0.01)
    producer.poll(0)
left = producer.flush(30)
print(json.dumps({"delivered": delivered, "errors": errors, "undelivered": left}))
