"""kafka-python 2.0.2 consumer groups (JoinGroup v2, SyncGroup v1, Heartbeat v1, LeaveGroup v1,
OffsetCommit v2, OffsetFetch v1, FindCoordinator v0) and its admin client: one JSON report.

Usage: kafka_python_group.py BOOTSTRAP TOPIC PARTITIONS PER_PARTITION GROUP

Two members, each in its own thread, share the topic (records are produced once both have
partitions) and commit after every poll; then a third member of the group resumes from the
commits; the admin client lists, describes, fetches offsets of and deletes groups.
"""
import json
import sys
import threading
import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient

bootstrap, topic, partitions, per_partition, group = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
total = partitions * per_partition
report = {}

def member(**extra):
    return KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=6000,
        heartbeat_interval_ms=500,
        max_poll_interval_ms=10000,
        **extra,
    )


lock = threading.Lock()
consumed = []
owned_now = {}
done = threading.Event()


def run(name):
    consumer = member(client_id=name)
    assignments = []
    while not done.is_set():
        batches = consumer.poll(timeout_ms=200)
        owned = sorted(tp.partition for tp in consumer.assignment())
        if owned and (not assignments or assignments[-1] != owned):
            assignments.append(owned)
        with lock:
            owned_now[name] = owned
            for records in batches.values():
                consumed.extend([name, r.partition, r.offset] for r in records)
            if len(consumed) >= total:
                done.set()
        if batches:
            consumer.commit()
    consumer.close()
    report["assignments_" + name] = assignments


threads = [threading.Thread(target=run, args=(name,)) for name in ("kp-1", "kp-2")]
for t in threads:
    t.start()
deadline = time.time() + 60


def shared():
    with lock:
        mine = [set(owned_now.get(name, [])) for name in ("kp-1", "kp-2")]
    return all(mine) and not (mine[0] & mine[1]) and len(mine[0] | mine[1]) == partitions


while not shared() and time.time() < deadline:
    time.sleep(0.2)
report["shared"] = shared()
producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
for p in range(partitions):
    for i in range(per_partition):
        producer.send(topic, value=b"%d:%d" % (p, i), partition=p)
producer.flush(30)
producer.close()
while not done.is_set() and time.time() < deadline:
    time.sleep(0.2)
done.set()
for t in threads:
    t.join(30)
report["consumed"] = consumed

# A new member resumes from what the group committed: nothing is read again.
third = member(client_id="kp-3", consumer_timeout_ms=3000)
report["resumed"] = [[r.partition, r.offset] for r in third]
report["committed"] = {str(tp.partition): third.committed(tp) for tp in (TopicPartition(topic, p) for p in range(partitions))}

admin = KafkaAdminClient(bootstrap_servers=bootstrap)
report["list"] = sorted([g[0], g[1]] for g in admin.list_consumer_groups())
info = admin.describe_consumer_groups([group])[0]
report["describe"] = {
    "state": info.state,
    "protocol_type": info.protocol_type,
    "protocol": info.protocol,
    "members": [[m.client_id, sorted(p for _, ps in m.member_assignment.assignment for p in ps)] for m in info.members],
}
report["offsets"] = {str(tp.partition): om.offset for tp, om in admin.list_consumer_group_offsets(group).items()}
report["delete_busy"] = [[g, e.__name__] for g, e in admin.delete_consumer_groups([group])]
third.close()
report["delete"] = [[g, e.__name__] for g, e in admin.delete_consumer_groups([group, "no-such-group"])]
report["offsets_after_delete"] = {str(tp.partition): om.offset for tp, om in admin.list_consumer_group_offsets(group).items()}
report["list_after_delete"] = sorted(g[0] for g in admin.list_consumer_groups())
admin.close()
print(json.dumps(report))
