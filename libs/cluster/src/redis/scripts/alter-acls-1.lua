--[[
  Adds and removes ACL bindings in one step and tells every broker. A binding is its
  canonical JSON text (Kafka's names), so the set holds each binding once.

  KEYS[1] acls            set of bindings

  ARGV[1] change channel
  ARGV[2] n: how many bindings to add
  ARGV[3 .. 2+n] bindings to add; ARGV[3+n ..] bindings to remove

  Returns the number of bindings after the change.
]]
local n = tonumber(ARGV[2])
for i = 3, 2 + n do
  redis.call('SADD', KEYS[1], ARGV[i])
end
for i = 3 + n, #ARGV do
  redis.call('SREM', KEYS[1], ARGV[i])
end
redis.call('PUBLISH', ARGV[1], 'acls')
return redis.call('SCARD', KEYS[1])
