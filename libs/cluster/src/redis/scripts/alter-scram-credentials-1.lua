--[[
  Sets and deletes SCRAM credentials in one step and tells every broker. A credential is
  stored under "<mechanism>:<user>" as JSON of its salt, StoredKey, ServerKey and
  iterations: never a password or a salted password.

  KEYS[1] scram-credentials   hash

  ARGV[1] change channel
  ARGV[2] n: how many credentials to set
  ARGV[3 .. 2+2n] field, value pairs to set; ARGV[3+2n ..] fields to delete

  Returns the number of credentials after the change.
]]
local n = tonumber(ARGV[2])
for i = 3, 2 + 2 * n, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
for i = 3 + 2 * n, #ARGV do
  redis.call('HDEL', KEYS[1], ARGV[i])
end
redis.call('PUBLISH', ARGV[1], 'credentials')
return redis.call('HLEN', KEYS[1])
