--[[
  The controller changes a partition's state (leader election, ISR after a broker failure,
  reassignment): a compare-and-set on the partition epoch, fenced by the controller lease.

  KEYS[1] controller
  KEYS[2] topic:<name>
  KEYS[3] topic:<name>:partitions

  ARGV[1] "<broker id>:<controller epoch>" of the caller
  ARGV[2] topic name
  ARGV[3] partition
  ARGV[4] partition epoch the caller read
  ARGV[5] the new state JSON (its partition_epoch one more)
  ARGV[6] change channel

  Returns 1, or -5 (NotController), -3 (UnknownTopic) or -4 (VersionMismatch).
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return -5
end
local current = redis.call('HGET', KEYS[3], ARGV[3])
if not current or redis.call('EXISTS', KEYS[2]) == 0 then
  return -3
end
if tostring(cjson.decode(current).partition_epoch) ~= ARGV[4] then
  return -4
end
redis.call('HSET', KEYS[3], ARGV[3], ARGV[5])
redis.call('PUBLISH', ARGV[6], 'partition ' .. ARGV[2] .. ' ' .. ARGV[3])
return 1
