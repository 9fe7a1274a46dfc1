--[[
  Replaces one entity's dynamic broker configs (a broker id, or <default> for the cluster
  default), if they are still the version the caller changed, and tells every broker.

  KEYS[1] broker-configs   hash entity -> configs JSON, "<entity>:version" -> version

  ARGV[1] entity
  ARGV[2] version the caller read (0: none stored)
  ARGV[3] configs JSON
  ARGV[4] change channel

  Returns the new version, or -4 (VersionMismatch).
]]
local version = tonumber(redis.call('HGET', KEYS[1], ARGV[1] .. ':version') or '0')
if version ~= tonumber(ARGV[2]) then
  return -4
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3], ARGV[1] .. ':version', version + 1)
redis.call('PUBLISH', ARGV[4], 'broker-configs ' .. ARGV[1])
return version + 1
