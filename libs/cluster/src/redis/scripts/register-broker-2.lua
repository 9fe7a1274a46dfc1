--[[
  Registers a broker: its registration hash lives for the session timeout and is renewed by
  heartbeats. A live registration of another incarnation (a second process with the same
  node.id, or the previous one not yet expired) is refused.

  KEYS[1] broker:<id>     registration hash
  KEYS[2] brokers         set of broker ids

  ARGV[1] broker id
  ARGV[2] incarnation id (random per process start)
  ARGV[3] session timeout ms
  ARGV[4] host
  ARGV[5] port
  ARGV[6] rack ('' for none)
  ARGV[7] change channel
  ARGV[8] every listener's advertised address, NAME://HOST:PORT,... (host and port: the
          inter-broker listener's)
  ARGV[9] the broker's offline log dirs, a JSON array (Kafka's BrokerRegistration)

  Returns 1, or -1 (DuplicateRegistration).
]]
local current = redis.call('HGET', KEYS[1], 'incarnation')
if current and current ~= ARGV[2] then
  return -1
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'incarnation', ARGV[2], 'host', ARGV[4], 'port', ARGV[5],
  'rack', ARGV[6], 'shutting_down', '0', 'endpoints', ARGV[8], 'offline_log_dirs', ARGV[9])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('PUBLISH', ARGV[7], 'brokers')
return 1
