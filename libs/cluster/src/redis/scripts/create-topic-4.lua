--[[
  Creates a topic with its partitions' first states, all or nothing.

  KEYS[1] topics                    hash: name -> topic id
  KEYS[2] topic:<name>              hash: id, partitions, configs (JSON), config_version
  KEYS[3] topic:<name>:partitions   hash: partition -> state JSON
  KEYS[4] cluster                   the cluster state's marker

  ARGV[1] topic name
  ARGV[2] topic id
  ARGV[3] configs JSON
  ARGV[4] change channel
  ARGV[5..] the state JSON of partition 0, 1, ...

  Returns 1, or -8 (TopicExists) or -10 (NoClusterState).
]]
if redis.call('EXISTS', KEYS[4]) == 0 then
  return -10
end
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
  return -8
end
local count = #ARGV - 4
redis.call('DEL', KEYS[2], KEYS[3])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], 'id', ARGV[2], 'partitions', count, 'configs', ARGV[3], 'config_version', 1)
for p = 0, count - 1 do
  redis.call('HSET', KEYS[3], p, ARGV[5 + p])
end
redis.call('PUBLISH', ARGV[4], 'topic ' .. ARGV[1])
return 1
