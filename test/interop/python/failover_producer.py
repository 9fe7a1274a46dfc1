"""A confluent-kafka (librdkafka) producer that fails over to another cluster when fenced.

Usage: failover_producer.py BOOTSTRAP1 TOPIC1 BOOTSTRAP2 TOPIC2 COUNT RATE

Sends records "0".."COUNT-1" (key = value) with acks=all, one at a time, to TOPIC1. When a
send is refused with POLICY_VIOLATION (the topic became a read-only mirror: it was fenced by
a promotion), it moves to TOPIC2 on BOOTSTRAP2 and sends the same record there, retrying
while that topic is still read-only (the promotion is not finished). Prints one line per
acknowledged record, "ACK seq cluster partition offset", "SWITCH seq" when it moves, and
"DONE" at the end.
"""
import sys
import time

from confluent_kafka import KafkaError, Producer

bootstrap1, topic1, bootstrap2, topic2, count, rate = sys.argv[1:7]
count, rate = int(count), float(rate)


def producer(bootstrap):
    return Producer(
        {
            "bootstrap.servers": bootstrap,
            "acks": "all",
            "enable.idempotence": False,
            "max.in.flight.requests.per.connection": 1,
            "linger.ms": 0,
            "message.timeout.ms": 30000,
        }
    )


clusters = [(producer(bootstrap1), topic1), (producer(bootstrap2), topic2)]
current = 0
result = {}


def delivered(err, msg):
    result["err"] = err
    result["msg"] = msg


seq = 0
started = time.time()
while seq < count:
    p, topic = clusters[current]
    value = str(seq).encode()
    result.clear()
    p.produce(topic, key=value, value=value, on_delivery=delivered)
    p.flush(35)
    err = result.get("err")
    if err is None and "msg" in result:
        msg = result["msg"]
        print("ACK %d %d %d %d" % (seq, current + 1, msg.partition(), msg.offset()), flush=True)
        seq += 1
        delay = started + seq / rate - time.time()
        if delay > 0:
            time.sleep(delay)
        continue
    if err is not None and err.code() == KafkaError.POLICY_VIOLATION:
        if current == 0:
            current = 1
            print("SWITCH %d" % seq, flush=True)
            continue
        time.sleep(0.05)
        continue
    print("RETRY %d %s" % (seq, err), flush=True)
    time.sleep(0.1)
print("DONE", flush=True)
