"""A transactional producer (confluent-kafka) running STEPS, each one transaction of N records
that it commits or aborts; prints a JSON report of the values of each kind.

Usage: transactional_producer.py BOOTSTRAP TOPIC TRANSACTIONAL_ID STEP...   (STEP: commit:N or abort:N)
"""
import json
import sys

from confluent_kafka import KafkaException, Producer

bootstrap, topic, transactional_id = sys.argv[1], sys.argv[2], sys.argv[3]
steps = [s.split(":") for s in sys.argv[4:]]
errors = []
report = {"committed": [], "aborted": [], "errors": errors}

producer = Producer(
    {
        "bootstrap.servers": bootstrap,
        "transactional.id": transactional_id,
        "linger.ms": 5,
        "error_cb": lambda err: errors.append(str(err)),
    }
)
try:
    producer.init_transactions(30)
    for n, (kind, count) in enumerate(steps):
        producer.begin_transaction()
        values = ["%s-%d-%d" % (transactional_id, n, i) for i in range(int(count))]
        for i, value in enumerate(values):
            producer.produce(topic, key=b"k%d" % i, value=value.encode())
            producer.poll(0)
        if kind == "commit":
            producer.commit_transaction(30)
            report["committed"].extend(values)
        else:
            # The records are sent first, so that the abort has something to abort.
            producer.flush(30)
            producer.abort_transaction(30)
            report["aborted"].extend(values)
except KafkaException as e:
    err = e.args[0]
    errors.append("%s: %s" % (err.name(), err.str()))
print(json.dumps(report))
