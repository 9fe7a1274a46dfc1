"""confluent-kafka (librdkafka) against a secured listener: prints one JSON object.

Usage: secure_client.py produce TOPIC COUNT [CONFIG=VALUE ...]
       secure_client.py consume TOPIC GROUP COUNT [CONFIG=VALUE ...]
       secure_client.py topics [CONFIG=VALUE ...]

CONFIG=VALUE are librdkafka settings (security.protocol, sasl.mechanism, sasl.username,
ssl.ca.location, ...). The output lists what was delivered or received and every error
seen, by librdkafka's name and text ("errors": [[name, text], ...]). An authentication
error ends the run at once.
"""
import json
import sys
import time

from confluent_kafka import Consumer, KafkaError, Producer
from confluent_kafka.admin import AdminClient

action = sys.argv[1]
errors = []
fatal = []


def on_error(err):
    errors.append([err.name(), err.str()])
    if err.code() in (KafkaError._AUTHENTICATION, KafkaError._SSL, KafkaError._ALL_BROKERS_DOWN):
        fatal.append(err)


def settings(args):
    conf = dict(kv.split("=", 1) for kv in args)
    conf["error_cb"] = on_error
    return conf


if action == "produce":
    topic, count = sys.argv[2], int(sys.argv[3])
    conf = settings(sys.argv[4:])
    conf.setdefault("message.timeout.ms", "8000")
    producer = Producer(conf)
    delivered = []

    def on_delivery(err, msg):
        if err is not None:
            errors.append([err.name(), err.str()])
        else:
            delivered.append(msg.offset())

    for i in range(count):
        producer.produce(topic, key=f"k{i}", value=f"secure-{i}", on_delivery=on_delivery)
    deadline = time.time() + 12
    while len(delivered) + sum(1 for e in errors if e[0] != "_TRANSPORT") < count and not fatal and time.time() < deadline:
        producer.poll(0.1)
    producer.flush(0 if fatal else 2)
    print(json.dumps({"delivered": delivered, "errors": errors}))
elif action == "consume":
    topic, group, count = sys.argv[2], sys.argv[3], int(sys.argv[4])
    conf = settings(sys.argv[5:])
    conf.update({"group.id": group, "auto.offset.reset": "earliest", "enable.auto.commit": "false"})
    consumer = Consumer(conf)
    consumer.subscribe([topic])
    received = []
    deadline = time.time() + 15
    while len(received) < count and not fatal and time.time() < deadline:
        msg = consumer.poll(0.2)
        if msg is None:
            continue
        if msg.error() is not None:
            errors.append([msg.error().name(), msg.error().str()])
            if msg.error().code() in (KafkaError.GROUP_AUTHORIZATION_FAILED, KafkaError.TOPIC_AUTHORIZATION_FAILED):
                break
            continue
        received.append(msg.value().decode())
    if received:
        consumer.commit(asynchronous=False)
    consumer.close()
    print(json.dumps({"received": received, "errors": errors}))
elif action == "topics":
    admin = AdminClient(settings(sys.argv[2:]))
    try:
        md = admin.list_topics(timeout=8)
        print(json.dumps({"topics": sorted(t for t in md.topics), "errors": errors}))
    except Exception as e:  # noqa: BLE001 - the failure is what the test checks
        print(json.dumps({"topics": None, "errors": errors + [["exception", str(e)]]}))
else:
    raise SystemExit(f"unknown action {action}")
