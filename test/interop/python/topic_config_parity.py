"""Topic configs Kafka keeps for compatibility (message.format.version, tiered storage, ...)
through librdkafka (confluent-kafka) and kafka-python: prints one JSON report.

Usage: topic_config_parity.py BOOTSTRAP
"""
import json
import sys

from confluent_kafka import Consumer, KafkaException, Producer
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic
from kafka import KafkaAdminClient
from kafka.admin import ConfigResource as KpConfigResource
from kafka.admin import ConfigResourceType
from kafka.protocol.api import Request, Response
from kafka.protocol.types import Array, Boolean, Int8, Int16, Int32, Schema, String

bootstrap = sys.argv[1]
topic = "parity"
admin = AdminClient({"bootstrap.servers": bootstrap})
report = {}


def outcome(future):
    try:
        future.result(timeout=15)
        return "ok"
    except KafkaException as e:
        return e.args[0].name()


def describe(name):
    res = admin.describe_configs([ConfigResource("topic", name)])
    return list(res.values())[0].result(timeout=15)


report["create"] = outcome(admin.create_topics([NewTopic(topic, 1, 1)])[topic])
report["defaults"] = {name: entry.value for name, entry in describe(topic).items()}

# librdkafka's test 0092: half the records, then AlterConfigs writing back every described
# entry with message.format.version set to an old format (test_AlterConfigs_simple), then the
# other half, and every record is read back.
producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0})
for i in range(10):
    producer.produce(topic, value=b"record-%d" % i, partition=0)
    producer.flush(15)
    if i == 4:
        entries = {name: entry.value for name, entry in describe(topic).items()}
        entries["message.format.version"] = "0.10.0.0"
        alter = ConfigResource("topic", topic, set_config=entries)
        report["alter_0092"] = [outcome(f) for f in admin.alter_configs([alter]).values()]
after = describe(topic)
report["after_0092"] = {
    k: {"value": after[k].value, "source": after[k].source} for k in ["message.format.version", "retention.ms"]
}
consumer = Consumer(
    {"bootstrap.servers": bootstrap, "group.id": "parity", "auto.offset.reset": "earliest", "enable.auto.commit": False}
)
consumer.subscribe([topic])
consumed = []
while len(consumed) < 10:
    m = consumer.poll(15)
    if m is None:
        break
    if m.error() is None:
        consumed.append(m.value().decode())
consumer.close()
report["consumed"] = consumed


def alter_one(key, value):
    resource = ConfigResource("topic", topic, set_config={key: value})
    return [outcome(f) for f in admin.alter_configs([resource]).values()]


report["alter_bad_format"] = alter_one("message.format.version", "0.7")
report["alter_remote_storage"] = alter_one("remote.storage.enable", "true")
report["alter_unknown_key"] = alter_one("message.format.versions", "2.8")


# IncrementalAlterConfigs v0 in kafka-python's protocol layer (2.0.2 has no admin call for
# it): the schema is Kafka's IncrementalAlterConfigsRequest.json at version 0.
class IncrementalAlterConfigsResponse_v0(Response):
    API_KEY = 44
    API_VERSION = 0
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        (
            "responses",
            Array(
                ("error_code", Int16),
                ("error_message", String("utf-8")),
                ("resource_type", Int8),
                ("resource_name", String("utf-8")),
            ),
        ),
    )


class IncrementalAlterConfigsRequest_v0(Request):
    API_KEY = 44
    API_VERSION = 0
    RESPONSE_TYPE = IncrementalAlterConfigsResponse_v0
    SCHEMA = Schema(
        (
            "resources",
            Array(
                ("resource_type", Int8),
                ("resource_name", String("utf-8")),
                ("configs", Array(("name", String("utf-8")), ("config_operation", Int8), ("value", String("utf-8")))),
            ),
        ),
        ("validate_only", Boolean),
    )


kp = KafkaAdminClient(bootstrap_servers=bootstrap)
TOPIC_TYPE = 2
SET, DELETE = 0, 1


def incremental(configs):
    request = IncrementalAlterConfigsRequest_v0(resources=[(TOPIC_TYPE, topic, configs)], validate_only=False)
    future = kp._send_request_to_node(kp._client.least_loaded_node(), request)
    kp._wait_for_futures([future])
    return [error_code for error_code, _, _, _ in future.value.responses]


def kp_describe(keys, include_synonyms):
    resource = KpConfigResource(ConfigResourceType.TOPIC, topic, configs=dict.fromkeys(keys))
    [response] = kp.describe_configs([resource], include_synonyms=include_synonyms)
    [(_, _, _, _, entries)] = response.resources
    return {
        name: {"value": value, "source": source, "synonyms": [list(s) for s in synonyms]}
        for name, value, _, source, _, synonyms in entries
    }


report["incremental_set"] = incremental([("message.format.version", SET, "2.8"), ("retention.ms", SET, "5000")])
report["incremental_described"] = kp_describe(["message.format.version", "retention.ms"], False)
report["incremental_described_synonyms"] = kp_describe(
    ["message.format.version", "retention.ms", "remote.storage.enable"], True
)
report["incremental_unknown_key"] = incremental([("message.format.versions", SET, "2.8")])
report["incremental_delete"] = incremental([("message.format.version", DELETE, None)])
report["incremental_after_delete"] = kp_describe(["message.format.version"], False)
kp.close()
print(json.dumps(report))
