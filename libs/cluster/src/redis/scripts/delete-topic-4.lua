--[[
  Deletes a topic; its id is remembered so that brokers that missed the deletion remove
  their logs of it.

  KEYS[1] topics
  KEYS[2] topic:<name>
  KEYS[3] topic:<name>:partitions
  KEYS[4] deleted-topics            hash: topic id -> name

  ARGV[1] topic name
  ARGV[2] change channel

  Returns 1, or -3 (UnknownTopic).
]]
local id = redis.call('HGET', KEYS[1], ARGV[1])
if not id then
  return -3
end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2], KEYS[3])
redis.call('HSET', KEYS[4], id, ARGV[1])
redis.call('PUBLISH', ARGV[2], 'topic ' .. ARGV[1])
return 1
