"""DescribeLogDirs v1 and AlterReplicaLogDirs v1 encoded by kafka-python's protocol types (it has
no admin call for them): prints one JSON report.

Usage: log_dirs.py BOOTSTRAP TOPIC LOG_DIR
"""
import json
import sys

from kafka import KafkaClient
from kafka.protocol.api import Request, Response
from kafka.protocol.types import Array, Boolean, Int16, Int32, Int64, Schema, String

bootstrap, topic, log_dir = sys.argv[1], sys.argv[2], sys.argv[3]


class DescribeLogDirsResponse_v1(Response):
    API_KEY = 35
    API_VERSION = 1
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        (
            "results",
            Array(
                ("error_code", Int16),
                ("log_dir", String("utf-8")),
                (
                    "topics",
                    Array(
                        ("name", String("utf-8")),
                        (
                            "partitions",
                            Array(
                                ("partition_index", Int32),
                                ("partition_size", Int64),
                                ("offset_lag", Int64),
                                ("is_future_key", Boolean),
                            ),
                        ),
                    ),
                ),
            ),
        ),
    )


class DescribeLogDirsRequest_v1(Request):
    API_KEY = 35
    API_VERSION = 1
    RESPONSE_TYPE = DescribeLogDirsResponse_v1
    SCHEMA = Schema(("topics", Array(("topic", String("utf-8")), ("partitions", Array(Int32)))))


class AlterReplicaLogDirsResponse_v1(Response):
    API_KEY = 34
    API_VERSION = 1
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        (
            "results",
            Array(
                ("topic_name", String("utf-8")),
                ("partitions", Array(("partition_index", Int32), ("error_code", Int16))),
            ),
        ),
    )


class AlterReplicaLogDirsRequest_v1(Request):
    API_KEY = 34
    API_VERSION = 1
    RESPONSE_TYPE = AlterReplicaLogDirsResponse_v1
    SCHEMA = Schema(
        (
            "dirs",
            Array(
                ("path", String("utf-8")),
                ("topics", Array(("name", String("utf-8")), ("partitions", Array(Int32)))),
            ),
        )
    )


client = KafkaClient(bootstrap_servers=bootstrap, client_id="log-dirs")
client.poll(future=client.cluster.request_update())
node = list(client.cluster.brokers())[0].nodeId


def send(request):
    while not client.ready(node):
        client.poll(timeout_ms=100)
    future = client.send(node, request)
    client.poll(future=future)
    if future.failed():
        raise future.exception
    return future.value


def describe(topics):
    r = send(DescribeLogDirsRequest_v1(topics=topics))
    return [
        {
            "error_code": err,
            "log_dir": d,
            "topics": {name: [[p[0], p[1], p[2], p[3]] for p in parts] for name, parts in ts},
        }
        for err, d, ts in r.results
    ]


def alter(path, partitions):
    r = send(AlterReplicaLogDirsRequest_v1(dirs=[(path, [(topic, partitions)])]))
    return {name: [list(p) for p in parts] for name, parts in r.results}


report = {
    "all": describe(None),
    "one_partition": describe([(topic, [1])]),
    "unknown_topic": describe([("no-such-topic", [0])]),
    "alter_same_dir": alter(log_dir, [0, 1]),
    "alter_other_dir": alter("/no/such/dir", [0]),
    "alter_missing_partition": alter(log_dir, [7]),
}
client.close()
print(json.dumps(report))
