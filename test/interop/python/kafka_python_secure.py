"""kafka-python against a SASL listener: SaslHandshake v0, then raw SASL tokens.

Usage: kafka_python_secure.py produce BOOTSTRAP TOPIC COUNT PROTOCOL MECHANISM USER PASSWORD [CAFILE]
       kafka_python_secure.py acls BOOTSTRAP PROTOCOL MECHANISM USER PASSWORD [CAFILE]

Prints one JSON object: the offsets written (or the ACL round trip's findings), or the
error's class name and text.
"""
import json
import sys

from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import ACL, ACLFilter, ACLOperation, ACLPermissionType, ResourcePattern, ResourcePatternFilter, ResourceType, ACLResourcePatternType


def security(protocol, mechanism, user, password, cafile):
    conf = {
        "security_protocol": protocol,
        "sasl_mechanism": mechanism,
        "sasl_plain_username": user,
        "sasl_plain_password": password,
        "api_version": (2, 5, 0),
        "request_timeout_ms": 10000,
    }
    if cafile:
        conf["ssl_cafile"] = cafile
    return conf


action = sys.argv[1]
try:
    if action == "produce":
        bootstrap, topic, count, protocol, mechanism, user, password = sys.argv[2:9]
        cafile = sys.argv[9] if len(sys.argv) > 9 else None
        producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", max_block_ms=4000, **security(protocol, mechanism, user, password, cafile))
        offsets = [producer.send(topic, key=b"kp", value=f"kafka-python-{i}".encode()).get(timeout=10).offset for i in range(int(count))]
        producer.close()
        print(json.dumps({"offsets": offsets}))
    elif action == "acls":
        bootstrap, protocol, mechanism, user, password = sys.argv[2:7]
        cafile = sys.argv[7] if len(sys.argv) > 7 else None
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, **security(protocol, mechanism, user, password, cafile))
        acl = ACL("User:dave", "*", ACLOperation.READ, ACLPermissionType.ALLOW, ResourcePattern(ResourceType.TOPIC, "dave-", ACLResourcePatternType.PREFIXED))
        created = admin.create_acls([acl])
        found, err = admin.describe_acls(ACLFilter("User:dave", None, ACLOperation.ANY, ACLPermissionType.ANY, ResourcePatternFilter(ResourceType.ANY, None, ACLResourcePatternType.ANY)))
        deleted = admin.delete_acls([ACLFilter("User:dave", None, ACLOperation.ANY, ACLPermissionType.ANY, ResourcePatternFilter(ResourceType.TOPIC, None, ACLResourcePatternType.ANY))])
        after, _ = admin.describe_acls(ACLFilter("User:dave", None, ACLOperation.ANY, ACLPermissionType.ANY, ResourcePatternFilter(ResourceType.ANY, None, ACLResourcePatternType.ANY)))
        admin.close()
        print(json.dumps({
            "created": len(created["succeeded"]),
            "failed": [str(f[1]) for f in created["failed"]],
            "found": [[a.principal, a.operation.name, a.permission_type.name, a.resource_pattern.resource_type.name, a.resource_pattern.resource_name, a.resource_pattern.pattern_type.name] for a in found],
            "deleted": sum(len(r[1]) for r in deleted),
            "after": len(after),
        }))
    else:
        raise SystemExit(f"unknown action {action}")
except Exception as e:  # noqa: BLE001 - the failure is what the test checks
    print(json.dumps({"error": type(e).__name__, "message": str(e)}))
