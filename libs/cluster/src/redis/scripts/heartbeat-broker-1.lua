--[[
  Renews a broker's registration, and marks it as shutting down (controlled shutdown) when
  asked and records its offline log dirs (Kafka's BrokerHeartbeat); a change of either is
  published.

  KEYS[1] broker:<id>     registration hash

  ARGV[1] incarnation id
  ARGV[2] session timeout ms
  ARGV[3] '1' when the broker is shutting down, else '0'
  ARGV[4] change channel
  ARGV[5] the broker's offline log dirs, a JSON array

  Returns 1, -1 (DuplicateRegistration: another incarnation holds the id) or -2
  (NotRegistered: the registration expired, register again).
]]
local current = redis.call('HGET', KEYS[1], 'incarnation')
if not current then
  return -2
end
if current ~= ARGV[1] then
  return -1
end
if redis.call('HGET', KEYS[1], 'shutting_down') ~= ARGV[3]
  or redis.call('HGET', KEYS[1], 'offline_log_dirs') ~= ARGV[5] then
  redis.call('HSET', KEYS[1], 'shutting_down', ARGV[3], 'offline_log_dirs', ARGV[5])
  redis.call('PUBLISH', ARGV[4], 'brokers')
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
