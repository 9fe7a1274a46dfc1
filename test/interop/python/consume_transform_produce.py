"""Consume-transform-produce with exactly-once (confluent-kafka): reads IN in group GROUP,
writes each record to OUT as "out-<value>" and commits its offsets in the same transaction
(send_offsets_to_transaction), BATCH records per transaction, until every partition of IN is
consumed to its end. Prints a JSON line per committed transaction and per error, and "done"
at the end. Retriable errors are retried, an abortable one aborts and goes back to the last
committed offsets, a fatal one (a newer instance fenced this one) exits with status 3.

Usage: consume_transform_produce.py BOOTSTRAP IN OUT GROUP TRANSACTIONAL_ID BATCH
"""
import json
import sys

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

bootstrap, source, sink, group, transactional_id, batch = sys.argv[1:7]
batch = int(batch)


def say(**event):
    print(json.dumps(event), flush=True)


consumer = Consumer(
    {
        "bootstrap.servers": bootstrap,
        "group.id": group,
        "isolation.level": "read_committed",
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "session.timeout.ms": 6000,
    }
)
producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": transactional_id, "linger.ms": 5})
producer.init_transactions(30)
consumer.subscribe([source])
partitions = sorted(consumer.list_topics(source, timeout=10).topics[source].partitions)
done = 0


def consumed_all():
    assignment = consumer.assignment()
    if len(assignment) < len(partitions):
        return False
    # A partition read nothing yet by this process has no position: its committed offset counts.
    committed = {tp.partition: tp.offset for tp in consumer.committed(assignment, 30)}
    for tp in consumer.position(assignment):
        at = tp.offset if tp.offset >= 0 else committed.get(tp.partition, -1)
        high = consumer.get_watermark_offsets(TopicPartition(source, tp.partition), timeout=10)[1]
        if at < high:
            return False
    return True


def rewind():
    """Back to the last committed offsets: what was consumed since goes again."""
    for tp in consumer.committed(consumer.assignment(), 30):
        consumer.seek(TopicPartition(source, tp.partition, tp.offset if tp.offset >= 0 else 0))


def attempt(action):
    """Runs a transaction step; retriable errors are retried; an abortable one aborts and rewinds (False)."""
    while True:
        try:
            action()
            return True
        except KafkaException as e:
            err = e.args[0]
            say(ev="error", name=err.name(), retriable=err.retriable(), abortable=err.txn_requires_abort())
            if err.retriable():
                continue
            if err.txn_requires_abort():
                producer.abort_transaction(60)
                rewind()
                return False
            sys.exit(3)


while True:
    msgs = [m for m in consumer.consume(batch, 1) if not m.error()]
    if not msgs:
        if consumed_all():
            break
        continue
    producer.begin_transaction()
    for m in msgs:
        while True:
            try:
                producer.produce(sink, key=m.key(), value=b"out-" + m.value())
                break
            except BufferError:
                producer.poll(0.1)
    offsets = consumer.position(consumer.assignment())
    if not attempt(lambda: producer.send_offsets_to_transaction(offsets, consumer.consumer_group_metadata(), 60)):
        continue
    if not attempt(lambda: producer.commit_transaction(60)):
        continue
    done += len(msgs)
    say(ev="committed", n=done)
consumer.close()
say(ev="done", n=done)
