--[[
  Removes a broker's registration on clean shutdown, if it is still this incarnation's.

  KEYS[1] broker:<id>     registration hash

  ARGV[1] incarnation id
  ARGV[2] change channel

  Returns 1, or -2 (NotRegistered).
]]
if redis.call('HGET', KEYS[1], 'incarnation') ~= ARGV[1] then
  return -2
end
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[2], 'brokers')
return 1
