--[[
  A leader changes its partition's ISR (Kafka's AlterPartition): a compare-and-set on the
  partition epoch, fenced by the leader epoch; a replica joining the ISR must be a live
  broker that is not shutting down.

  KEYS[1] topic:<name>:partitions

  ARGV[1] topic name
  ARGV[2] partition
  ARGV[3] leader id
  ARGV[4] leader epoch
  ARGV[5] partition epoch the leader read
  ARGV[6] the new state JSON (its partition_epoch one more)
  ARGV[7] key prefix of broker registrations ("...broker:")
  ARGV[8] change channel
  ARGV[9..] ids of the replicas joining the ISR

  Returns 1, or -3 (UnknownTopic), -6 (FencedLeaderEpoch), -4 (VersionMismatch) or -7
  (IneligibleReplica).
]]
local current = redis.call('HGET', KEYS[1], ARGV[2])
if not current then
  return -3
end
local state = cjson.decode(current)
if tostring(state.leader) ~= ARGV[3] or tostring(state.leader_epoch) ~= ARGV[4] then
  return -6
end
if tostring(state.partition_epoch) ~= ARGV[5] then
  return -4
end
for i = 9, #ARGV do
  local shutting = redis.call('HGET', ARGV[7] .. ARGV[i], 'shutting_down')
  if shutting ~= '0' then
    return -7
  end
end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[6])
redis.call('PUBLISH', ARGV[8], 'partition ' .. ARGV[1] .. ' ' .. ARGV[2])
return 1
