"""One confluent-kafka (librdkafka) consumer group member: prints one JSON line per event.

Usage: group_member.py BOOTSTRAP TOPIC GROUP NAME [CONFIG=VALUE ...]

Events, each with "t" (seconds since the epoch) and "member":
  assign / revoke / lost {partitions}   from the rebalance callbacks
  msg {p, o, began}                     a record, returned by a poll that began at "began" and ended at "t"
  commit {offsets}                      after a synchronous commit succeeded (partition -> next offset)
  dropped {p, o}                        a record of a partition not owned (never expected)
  closed                                after consumer.close() (which leaves the group)
Consumed offsets are committed every 20 records, when a poll comes back empty, and for the
partitions being revoked before they go (so that their next owner starts where this one
stopped). The member stops when "stop" arrives on stdin.
"""
import json
import sys
import threading
import time

from confluent_kafka import Consumer, KafkaException, TopicPartition

bootstrap, topic, group, name = sys.argv[1:5]
extra = dict(kv.split("=", 1) for kv in sys.argv[5:])
stop = threading.Event()


def watch_stdin():
    for line in sys.stdin:
        if line.strip() == "stop":
            break
    stop.set()


threading.Thread(target=watch_stdin, daemon=True).start()


def emit(ev, **fields):
    print(json.dumps({"ev": ev, "t": time.time(), "member": name, **fields}), flush=True)


owned = set()
pending = {}


def commit_pending(partitions=None):
    todo = {p: o for p, o in pending.items() if partitions is None or p in partitions}
    if not todo:
        return
    try:
        done = consumer.commit(offsets=[TopicPartition(topic, p, o) for p, o in todo.items()], asynchronous=False)
        emit("commit", offsets={str(tp.partition): tp.offset for tp in done if tp.error is None})
    except KafkaException as e:
        emit("commit_failed", error=str(e))
    for p in todo:
        pending.pop(p, None)


def on_assign(consumer, partitions):
    owned.update(p.partition for p in partitions)
    emit("assign", partitions=sorted(p.partition for p in partitions))


def on_revoke(consumer, partitions):
    revoked = {p.partition for p in partitions}
    commit_pending(revoked)
    owned.difference_update(revoked)
    emit("revoke", partitions=sorted(revoked))


def on_lost(consumer, partitions):
    lost = {p.partition for p in partitions}
    for p in lost:
        pending.pop(p, None)
    owned.difference_update(lost)
    emit("lost", partitions=sorted(lost))


consumer = Consumer(
    {
        "bootstrap.servers": bootstrap,
        "group.id": group,
        "client.id": name,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "session.timeout.ms": 6000,
        "heartbeat.interval.ms": 1000,
        **extra,
    }
)
consumer.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke, on_lost=on_lost)
uncommitted = 0
while not stop.is_set():
    began = time.time()
    m = consumer.poll(0.1)
    if m is None:
        commit_pending()
        uncommitted = 0
        continue
    if m.error():
        emit("error", error=str(m.error()))
    elif m.partition() not in owned:
        emit("dropped", p=m.partition(), o=m.offset())
    else:
        emit("msg", p=m.partition(), o=m.offset(), began=began)
        pending[m.partition()] = m.offset() + 1
        uncommitted += 1
        if uncommitted >= 20:
            commit_pending()
            uncommitted = 0
consumer.close()
emit("closed")
