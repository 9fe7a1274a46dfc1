--[[
  Grows a topic by partitions with their first states, if it still has the count the caller saw.

  KEYS[1] topic:<name>
  KEYS[2] topic:<name>:partitions

  ARGV[1] topic name
  ARGV[2] the partition count the caller saw
  ARGV[3] change channel
  ARGV[4..] the state JSON of each new partition, in order

  Returns the new count, or -3 (UnknownTopic) or -4 (VersionMismatch).
]]
local count = redis.call('HGET', KEYS[1], 'partitions')
if not count then
  return -3
end
if count ~= ARGV[2] then
  return -4
end
local base = tonumber(count)
for i = 4, #ARGV do
  redis.call('HSET', KEYS[2], base + i - 4, ARGV[i])
end
local total = base + #ARGV - 3
redis.call('HSET', KEYS[1], 'partitions', total)
redis.call('PUBLISH', ARGV[3], 'topic ' .. ARGV[1])
return total
