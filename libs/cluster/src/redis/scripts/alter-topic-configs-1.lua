--[[
  Replaces a topic's config overrides, if they are still the version the caller changed.

  KEYS[1] topic:<name>

  ARGV[1] topic name
  ARGV[2] config_version the caller read
  ARGV[3] configs JSON
  ARGV[4] change channel

  Returns the new config_version, or -3 (UnknownTopic) or -4 (VersionMismatch).
]]
local version = redis.call('HGET', KEYS[1], 'config_version')
if not version then
  return -3
end
if version ~= ARGV[2] then
  return -4
end
local next = tonumber(version) + 1
redis.call('HSET', KEYS[1], 'configs', ARGV[3], 'config_version', next)
redis.call('PUBLISH', ARGV[4], 'topic ' .. ARGV[1])
return next
