"""A zombie: producer 1 opens a transaction, producer 2 with the same transactional.id starts
(fencing producer 1 and aborting its transaction) and commits one of its own; then producer 1
tries to go on. Prints a JSON report of what producer 1 was told.

Usage: fenced_zombie.py BOOTSTRAP TOPIC TRANSACTIONAL_ID
"""
import json
import sys

from confluent_kafka import KafkaException, Producer

bootstrap, topic, transactional_id = sys.argv[1], sys.argv[2], sys.argv[3]


def producer():
    return Producer({"bootstrap.servers": bootstrap, "transactional.id": transactional_id, "linger.ms": 0})


zombie = producer()
zombie.init_transactions(30)
zombie.begin_transaction()
zombie.produce(topic, value=b"zombie-1")
zombie.flush(30)

fresh = producer()
fresh.init_transactions(30)
fresh.begin_transaction()
fresh.produce(topic, value=b"fresh-1")
fresh.commit_transaction(30)

report = {}
try:
    zombie.produce(topic, value=b"zombie-2")
    zombie.commit_transaction(30)
    report["zombie"] = "committed"
except KafkaException as e:
    err = e.args[0]
    report["zombie"] = {"name": err.name(), "fatal": err.fatal(), "abortable": err.txn_requires_abort()}
print(json.dumps(report))
