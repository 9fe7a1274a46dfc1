"""Describes and alters client quotas with kafka-python's admin client and protocol code.

kafka-python 2.0.2 (Debian's python3-kafka) has no client quota methods, and
confluent-kafka 1.7 (Debian's) has no client quota admin API either, so the two requests
are declared here the way kafka-python declares every request (its Struct, Schema and
types), with a float64 type it lacks, and sent through KafkaAdminClient. That keeps the
encoding and framing kafka-python's own, independent of the broker's codec.

usage: kafka_python_quotas.py BOOTSTRAP COMMAND_JSON
  {"describe": {"components": [[type, match_type, match]...], "strict": bool}}
  {"alter": {"entries": [{"entity": [[type, name]...], "ops": [[key, value, remove]...]}...],
             "validate_only": bool}}
prints the response as JSON.
"""
import json
import struct
import sys

from kafka import KafkaAdminClient
from kafka.protocol.api import Request, Response
from kafka.protocol.types import AbstractType, Array, Boolean, Int8, Int16, Int32, Schema, String


class Float64(AbstractType):
    _pack = struct.Struct('>d').pack
    _unpack = struct.Struct('>d').unpack

    @classmethod
    def encode(cls, value):
        return cls._pack(value)

    @classmethod
    def decode(cls, data):
        return cls._unpack(data.read(8))[0]


ENTITY = Array(('entity_type', String('utf-8')), ('entity_name', String('utf-8')))


class DescribeClientQuotasResponse_v0(Response):
    API_KEY = 48
    API_VERSION = 0
    SCHEMA = Schema(
        ('throttle_time_ms', Int32),
        ('error_code', Int16),
        ('error_message', String('utf-8')),
        ('entries', Array(('entity', ENTITY), ('values', Array(('key', String('utf-8')), ('value', Float64))))),
    )


class DescribeClientQuotasRequest_v0(Request):
    API_KEY = 48
    API_VERSION = 0
    RESPONSE_TYPE = DescribeClientQuotasResponse_v0
    SCHEMA = Schema(
        ('components', Array(('entity_type', String('utf-8')), ('match_type', Int8), ('match', String('utf-8')))),
        ('strict', Boolean),
    )


class AlterClientQuotasResponse_v0(Response):
    API_KEY = 49
    API_VERSION = 0
    SCHEMA = Schema(
        ('throttle_time_ms', Int32),
        ('entries', Array(('error_code', Int16), ('error_message', String('utf-8')), ('entity', ENTITY))),
    )


class AlterClientQuotasRequest_v0(Request):
    API_KEY = 49
    API_VERSION = 0
    RESPONSE_TYPE = AlterClientQuotasResponse_v0
    SCHEMA = Schema(
        ('entries', Array(('entity', ENTITY), ('ops', Array(('key', String('utf-8')), ('value', Float64), ('remove', Boolean))))),
        ('validate_only', Boolean),
    )


def send(admin, request):
    future = admin._send_request_to_node(admin._client.least_loaded_node(), request)
    admin._wait_for_futures([future])
    return future.value


def main():
    bootstrap, command = sys.argv[1], json.loads(sys.argv[2])
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id='kafka-python-quotas')
    try:
        if 'describe' in command:
            d = command['describe']
            r = send(admin, DescribeClientQuotasRequest_v0(components=[tuple(c) for c in d['components']], strict=d['strict']))
            entries = None if r.entries is None else [
                {'entity': [list(e) for e in entity], 'values': {k: v for k, v in values}}
                for entity, values in r.entries
            ]
            print(json.dumps({'error_code': r.error_code, 'error_message': r.error_message, 'entries': entries}))
        else:
            a = command['alter']
            entries = [
                ([tuple(e) for e in entry['entity']], [(k, float(v), bool(rm)) for k, v, rm in entry['ops']])
                for entry in a['entries']
            ]
            r = send(admin, AlterClientQuotasRequest_v0(entries=entries, validate_only=a['validate_only']))
            print(json.dumps([
                {'error_code': code, 'error_message': message, 'entity': [list(e) for e in entity]}
                for code, message, entity in r.entries
            ]))
    finally:
        admin.close()


if __name__ == '__main__':
    main()
