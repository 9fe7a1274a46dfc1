"""A transaction left open past its transaction.timeout.ms: the coordinator aborts it. Then
the producer tries to commit. Prints a JSON report of what it was told.

Usage: timed_out_transaction.py BOOTSTRAP TOPIC TRANSACTIONAL_ID TIMEOUT_MS WAIT_S
"""
import json
import sys
import time

from confluent_kafka import KafkaException, Producer

bootstrap, topic, transactional_id = sys.argv[1], sys.argv[2], sys.argv[3]
timeout_ms, wait_s = int(sys.argv[4]), float(sys.argv[5])
producer = Producer(
    {
        "bootstrap.servers": bootstrap,
        "transactional.id": transactional_id,
        "transaction.timeout.ms": timeout_ms,
        "linger.ms": 0,
    }
)
producer.init_transactions(30)
producer.begin_transaction()
producer.produce(topic, value=b"late-1")
producer.flush(30)
time.sleep(wait_s)
report = {}
try:
    producer.produce(topic, value=b"late-2")
    producer.commit_transaction(30)
    report["commit"] = "committed"
except KafkaException as e:
    err = e.args[0]
    report["commit"] = {"name": err.name(), "fatal": err.fatal(), "abortable": err.txn_requires_abort()}
print(json.dumps(report))
