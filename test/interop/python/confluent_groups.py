"""confluent-kafka AdminClient.list_groups (librdkafka's ListGroups + DescribeGroups): one JSON report.

Usage: confluent_groups.py BOOTSTRAP [GROUP]
Member assignments are decoded from the consumer protocol (ConsumerProtocolAssignment v0 prefix).
"""
import json
import struct
import sys

from confluent_kafka.admin import AdminClient


def assignment(raw):
    if not raw:
        return {}
    at = 2
    (n,) = struct.unpack_from(">i", raw, at)
    at += 4
    out = {}
    for _ in range(n):
        (length,) = struct.unpack_from(">h", raw, at)
        at += 2
        topic = raw[at : at + length].decode()
        at += length
        (count,) = struct.unpack_from(">i", raw, at)
        at += 4
        out[topic] = list(struct.unpack_from(">%di" % count, raw, at))
        at += 4 * count
    return out


admin = AdminClient({"bootstrap.servers": sys.argv[1]})
groups = admin.list_groups(group=sys.argv[2], timeout=15) if len(sys.argv) > 2 else admin.list_groups(timeout=15)
print(
    json.dumps(
        [
            {
                "id": g.id,
                "error": g.error.name() if g.error else None,
                "state": g.state,
                "protocol_type": g.protocol_type,
                "protocol": g.protocol,
                "members": sorted(
                    [
                        {
                            "client_id": m.client_id,
                            "client_host": m.client_host,
                            "assignment": assignment(m.assignment),
                        }
                        for m in g.members
                    ],
                    key=lambda m: m["client_id"],
                ),
            }
            for g in groups
        ]
    )
)
