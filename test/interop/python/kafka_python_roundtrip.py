"""kafka-python produces keyed records with each codec and consumes them back: prints a JSON report.

Usage: kafka_python_roundtrip.py BOOTSTRAP TOPIC COUNT
"""
import json
import sys

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

bootstrap, topic, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
report = {"acks": {}}
for codec in [None, "gzip", "snappy", "lz4", "zstd"]:
    producer = KafkaProducer(bootstrap_servers=bootstrap, compression_type=codec, acks="all", linger_ms=5)
    futures = [
        producer.send(topic, key=b"k%d" % (i % 11), value=("%s-%d" % (codec, i)).encode(), headers=[("codec", str(codec).encode())])
        for i in range(count)
    ]
    producer.flush(30)
    metas = [f.get(timeout=30) for f in futures]
    report["acks"][str(codec)] = sorted({(m.partition) for m in metas})
    producer.close()

consumer = KafkaConsumer(
    bootstrap_servers=bootstrap, auto_offset_reset="earliest", consumer_timeout_ms=5000, enable_auto_commit=False
)
partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic))]
consumer.assign(partitions)
records = []
for m in consumer:
    records.append({"p": m.partition, "o": m.offset, "k": m.key.decode(), "v": m.value.decode(), "h": [[k, v.decode()] for k, v in m.headers]})
consumer.close()
report["records"] = records
print(json.dumps(report))
