"""Holds one transaction open (confluent-kafka): sends COUNT records, prints "open" and the
values, then waits for a line on stdin ("commit" or "abort") and ends the transaction so.

Usage: open_transaction.py BOOTSTRAP TOPIC TRANSACTIONAL_ID COUNT
"""
import json
import sys

from confluent_kafka import Producer

bootstrap, topic, transactional_id, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": transactional_id, "linger.ms": 5})
producer.init_transactions(30)
producer.begin_transaction()
values = ["%s-%d" % (transactional_id, i) for i in range(count)]
for i, value in enumerate(values):
    producer.produce(topic, key=b"k%d" % i, value=value.encode())
producer.flush(30)
print(json.dumps({"open": values}), flush=True)
if sys.stdin.readline().strip() == "commit":
    producer.commit_transaction(30)
else:
    producer.abort_transaction(30)
print(json.dumps({"ended": True}), flush=True)
