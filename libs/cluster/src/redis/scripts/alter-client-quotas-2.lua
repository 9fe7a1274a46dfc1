--[[
  Replaces client quota entities in one step if nobody changed the quotas since they were
  read (compare-and-set on a version), and tells every broker. An entity is stored under
  its Kafka config path (users/<user>/clients/<client-id>, ...) as JSON of its quota keys.

  KEYS[1] client-quotas           hash  entity path -> JSON of its quotas
  KEYS[2] client-quotas:version   int   bumped by every change

  ARGV[1] change channel
  ARGV[2] the version the change was computed from
  ARGV[3] n: how many entities to set
  ARGV[4 .. 3+2n] path, JSON pairs to set; ARGV[4+2n ..] paths to delete

  Returns the new version, or -4 (VersionMismatch) when the quotas changed meanwhile.
]]
local version = tonumber(redis.call('GET', KEYS[2]) or '0')
if version ~= tonumber(ARGV[2]) then
  return -4
end
local n = tonumber(ARGV[3])
for i = 4, 3 + 2 * n, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
for i = 4 + 2 * n, #ARGV do
  redis.call('HDEL', KEYS[1], ARGV[i])
end
version = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[1], 'quotas')
return version
