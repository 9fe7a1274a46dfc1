"""The nemesis suite's confluent-kafka (librdkafka) producer: idempotent, acks=all.

Usage: chaos_producer.py BOOTSTRAP TOPIC PARTITIONS RATE NAME FIRST_SEQ

Sends records numbered from FIRST_SEQ at about RATE per second, record n with value and key
"NAME-n" to partition n % PARTITIONS, until "stop" arrives on stdin; then flushes and exits.
Prints one line per outcome:
  A <epoch ms> <partition> <offset> <n>   acknowledged (offset -1: librdkafka acknowledged it
                                          implicitly, when a later record of the partition was)
  E <n> <error>                           delivery failed (the record may or may not be stored)
  C <error>                               a client error (error_cb)
  F <error>                               a fatal error: the producer cannot go on (exit 3)
  DONE <records left undelivered>
"""
import sys
import threading
import time

from confluent_kafka import KafkaException, Producer

bootstrap, topic, partitions, rate, name, first = sys.argv[1:7]
partitions, rate, first = int(partitions), float(rate), int(first)
stop = threading.Event()
lock = threading.Lock()
fatal = []


def out(line):
    with lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def watch_stdin():
    for line in sys.stdin:
        if line.strip() == "stop":
            break
    stop.set()


threading.Thread(target=watch_stdin, daemon=True).start()


def on_error(err):
    out("C %s" % err)
    if err.fatal():
        fatal.append(err)
        stop.set()


producer = Producer(
    {
        "bootstrap.servers": bootstrap,
        "client.id": name,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 5,
        "message.timeout.ms": 120000,
        "topic.metadata.refresh.interval.ms": 5000,
        "error_cb": on_error,
        # Idempotence state changes (epoch bumps and why) and the leaders it learns go to stderr,
        # kept in confluent-producer.log.
        "debug": "eos,metadata",
    }
)


def on_delivery(err, msg):
    n = int(msg.value().decode().rsplit("-", 1)[1])
    if err is not None:
        out("E %d %s" % (n, err))
    else:
        offset = msg.offset()
        out("A %d %d %d %d" % (time.time() * 1000, msg.partition(), -1 if offset is None else offset, n))


start = time.time()
n = first
while not stop.is_set():
    due = first + int((time.time() - start) * rate)
    while n < due and not stop.is_set():
        value = ("%s-%d" % (name, n)).encode()
        try:
            producer.produce(topic, key=value, value=value, partition=n % partitions, on_delivery=on_delivery)
            n += 1
        except BufferError:
            producer.poll(0.05)
        except KafkaException as e:
            fatal.append(e)
            stop.set()
    producer.poll(0.02)
if not fatal:
    try:
        out("DONE %d" % producer.flush(30))
    except KafkaException as e:
        fatal.append(e)
if fatal:
    out("F %s" % fatal[0])
    sys.exit(3)
