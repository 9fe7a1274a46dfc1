--[[
  Renews the controller lease if the caller still holds it.

  KEYS[1] controller

  ARGV[1] "<broker id>:<controller epoch>" as acquired
  ARGV[2] lease ms

  Returns 1, or -5 (NotController: the lease expired or another broker holds it).
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return -5
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
